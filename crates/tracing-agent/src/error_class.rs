//! Error classes: the `error` of a failed tool call, like Python's `type(e).__name__`.

use std::borrow::Cow;

/// Gives a finer error class than the type's name, e.g. the enum variant.
///
/// Without an impl, the class is the error type's name without path or generics
/// (`HttpError`). Derive it on an enum to get the variant's name:
///
/// ```
/// use tracing_agent::ErrorClass;
///
/// #[derive(Debug, ErrorClass)]
/// enum HttpError {
///     RateLimited { retry_after_s: u64 },
///     Status(u16),
/// }
/// assert_eq!(HttpError::RateLimited { retry_after_s: 3 }.error_class(), "RateLimited");
/// ```
///
/// The class is logged; the error's message is not (it may hold personal data).
pub trait ErrorClass {
    /// A short, low-cardinality class name.
    fn error_class(&self) -> Cow<'static, str>;
}

impl ErrorClass for std::io::Error {
    /// The `ErrorKind`, e.g. `TimedOut` or `ConnectionRefused`.
    fn error_class(&self) -> Cow<'static, str> {
        Cow::Owned(format!("{:?}", self.kind()))
    }
}

/// The name of `T` without its path or generic arguments.
pub(crate) fn type_name_class<T: ?Sized>() -> &'static str {
    let full = std::any::type_name::<T>();
    let outer = full.split('<').next().unwrap_or(full);
    outer.rsplit("::").next().unwrap_or(outer)
}

/// Autoref specialization, so that generated code uses [`ErrorClass`] when the error
/// type implements it and the type name otherwise, without requiring the trait.
#[doc(hidden)]
pub struct Classify<'a, E: ?Sized>(pub &'a E);

#[doc(hidden)]
pub trait ClassFromTrait {
    fn agent_error_class(&self) -> Cow<'static, str>;
}

impl<E: ErrorClass + ?Sized> ClassFromTrait for Classify<'_, E> {
    fn agent_error_class(&self) -> Cow<'static, str> {
        self.0.error_class()
    }
}

#[doc(hidden)]
pub trait ClassFromTypeName {
    fn agent_error_class(&self) -> Cow<'static, str>;
}

impl<E: ?Sized> ClassFromTypeName for &Classify<'_, E> {
    fn agent_error_class(&self) -> Cow<'static, str> {
        Cow::Borrowed(type_name_class::<E>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(dead_code)]
    struct Plain;
    #[allow(dead_code)]
    struct Generic<T>(T);

    #[test]
    fn type_name_loses_path_and_generics() {
        assert_eq!(type_name_class::<Plain>(), "Plain");
        assert_eq!(type_name_class::<Generic<Vec<u8>>>(), "Generic");
        assert_eq!(
            type_name_class::<std::num::ParseIntError>(),
            "ParseIntError"
        );
    }

    #[test]
    #[allow(clippy::needless_borrow)] // the borrow is the mechanism: it mirrors the expansion
    fn autoref_prefers_the_trait() {
        let io = std::io::Error::from(std::io::ErrorKind::TimedOut);
        assert_eq!((&Classify(&io)).agent_error_class(), "TimedOut");
        let parse = "x".parse::<u8>().unwrap_err();
        assert_eq!((&Classify(&parse)).agent_error_class(), "ParseIntError");
    }
}
