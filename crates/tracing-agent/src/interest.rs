//! `AgentLayer`'s interest in callsites, expressed as a per-layer filter.
//!
//! A plain layer can only answer for the whole stack: "always" (the default) turns a
//! callsite that the user's per-layer filters all reject into a "sometimes" one, whose
//! every call then runs the filters again (README, Performance); "never" switches it off
//! for every other layer too. Only
//! `tracing-subscriber`'s `Filtered` can say "not for me, the others decide", through
//! machinery that is private to that crate. So `AgentLayer` owns a `Filtered` no-op
//! layer, created once the subscriber's type is known (`on_layer`), and passes it the
//! calls through which a per-layer filter takes part: interest, `enabled`, and the
//! `new_span`/`on_event` calls that settle each decision. Its own work is unchanged: it
//! happens in the tool and run code, through the hooks.

use std::any::{Any, TypeId};

use tracing::level_filters::LevelFilter;
use tracing::subscriber::Interest;
use tracing::{span, Event, Metadata, Subscriber};
use tracing_subscriber::filter::Filtered;
use tracing_subscriber::layer::{Context, Filter, Identity, Layer};
use tracing_subscriber::registry::LookupSpan;

/// The spans `AgentLayer` keeps state on: the run, tool and LLM-call spans this crate
/// creates.
struct OwnSpans;

fn is_own_span(meta: &Metadata<'_>) -> bool {
    meta.is_span()
        && (meta.target().starts_with("tracing_agent::")
            // A tool given its own target (`#[agent_tool(target = "..")]`): known by the
            // span the macro makes, whose name and field no other span has together.
            || (meta.name() == "execute_tool" && meta.fields().field("gen_ai.tool.name").is_some()))
}

impl<S> Filter<S> for OwnSpans {
    fn enabled(&self, meta: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        is_own_span(meta)
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        if is_own_span(meta) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        // The run, tool and LLM-call spans are INFO. A tool given a lower level
        // (`level = "debug"`) is seen where the subscriber enables that level, as every
        // span of that level is (README, `#[agent_tool]` options).
        Some(LevelFilter::INFO)
    }
}

type Own<S> = Filtered<Identity, OwnSpans, S>;

/// The filter half of `AgentLayer`. Until `on_layer` it answers like a plain layer.
#[derive(Default)]
pub(crate) struct OwnInterest {
    filtered: Option<Box<dyn Any + Send + Sync>>,
}

impl OwnInterest {
    fn get<S>(&self) -> Option<&Own<S>>
    where
        S: Subscriber + for<'a> LookupSpan<'a> + 'static,
    {
        self.filtered.as_ref()?.downcast_ref::<Own<S>>()
    }

    pub(crate) fn on_layer<S>(&mut self, subscriber: &mut S)
    where
        S: Subscriber + for<'a> LookupSpan<'a> + 'static,
    {
        let mut filtered: Own<S> = Identity::new().with_filter(OwnSpans);
        filtered.on_layer(subscriber);
        self.filtered = Some(Box::new(filtered));
    }

    pub(crate) fn register_callsite<S>(&self, meta: &'static Metadata<'static>) -> Interest
    where
        S: Subscriber + for<'a> LookupSpan<'a> + 'static,
    {
        self.get::<S>()
            .map_or_else(Interest::always, |f| f.register_callsite(meta))
    }

    pub(crate) fn enabled<S>(&self, meta: &Metadata<'_>, cx: Context<'_, S>) -> bool
    where
        S: Subscriber + for<'a> LookupSpan<'a> + 'static,
    {
        self.get::<S>().is_none_or(|f| f.enabled(meta, cx))
    }

    pub(crate) fn event_enabled<S>(&self, event: &Event<'_>, cx: Context<'_, S>) -> bool
    where
        S: Subscriber + for<'a> LookupSpan<'a> + 'static,
    {
        self.get::<S>().is_none_or(|f| f.event_enabled(event, cx))
    }

    pub(crate) fn on_new_span<S>(
        &self,
        attrs: &span::Attributes<'_>,
        id: &span::Id,
        cx: Context<'_, S>,
    ) where
        S: Subscriber + for<'a> LookupSpan<'a> + 'static,
    {
        if let Some(f) = self.get::<S>() {
            f.on_new_span(attrs, id, cx);
        }
    }

    pub(crate) fn on_event<S>(&self, event: &Event<'_>, cx: Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a> + 'static,
    {
        if let Some(f) = self.get::<S>() {
            f.on_event(event, cx);
        }
    }

    pub(crate) fn max_level_hint<S>(&self) -> Option<LevelFilter>
    where
        S: Subscriber + for<'a> LookupSpan<'a> + 'static,
    {
        self.get::<S>().and_then(Layer::max_level_hint)
    }

    /// Answers `tracing-subscriber`'s "has a per-layer filter" probe (and nothing of
    /// `AgentLayer`'s own, which it answers itself).
    ///
    /// # Safety
    ///
    /// As [`Layer::downcast_raw`]: the pointer returned, if any, points to a value of the
    /// type `id` names, owned by `self`.
    pub(crate) unsafe fn downcast_raw<S>(&self, id: TypeId) -> Option<*const ()>
    where
        S: Subscriber + for<'a> LookupSpan<'a> + 'static,
    {
        // SAFETY: forwarded as is to the `Filtered` this owns, which upholds it.
        unsafe { self.get::<S>()?.downcast_raw(id) }
    }
}
