//! How `report` draws: text made safe for HTML (`escape`), the charts (`svg`), runs in
//! time buckets (`timeline`), the runs named one by one (`notable`), and the page that
//! puts them together (`html`).

pub(crate) mod escape;
pub(crate) mod html;
pub(crate) mod notable;
pub(crate) mod svg;
pub(crate) mod timeline;
