//! [`Refused`]: what a tool call that did not run returns.

use std::fmt;

use crate::schema::StopReason;

/// A tool call the runtime did not let run: a guard tripped (a budget, a loop, a kill
/// switch), a policy denied the tool, or the call timed out.
///
/// A tool whose error type can carry it is refused before its body runs: give the error
/// type a `From<Refused>` and the call returns `Err(Refused.into())`.
///
/// ```
/// use tracing_agent::{ErrorClass, Refused};
///
/// #[derive(Debug, ErrorClass)]
/// enum HttpError {
///     Refused(Refused),
///     RateLimited,
/// }
///
/// impl From<Refused> for HttpError {
///     fn from(refused: Refused) -> Self {
///         HttpError::Refused(refused)
///     }
/// }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Refused {
    reason: StopReason,
    tool: String,
    detail: String,
}

impl Refused {
    pub(crate) fn new(reason: StopReason, tool: &str, detail: String) -> Self {
        Refused {
            reason,
            tool: tool.to_owned(),
            detail,
        }
    }

    /// Why the call was refused: the stop reason of the guard that tripped
    /// (`max_tool_calls`, `loop_detected`, `killed`, ...), `denied` for a policy, or
    /// `tool_timeout`.
    pub fn reason(&self) -> StopReason {
        self.reason.clone()
    }

    /// The tool that was refused.
    pub fn tool(&self) -> &str {
        &self.tool
    }

    /// The error class written in the call's `tool_result`: `refused:<reason>`, or
    /// `timeout` for a call that ran out of time.
    pub fn class(&self) -> String {
        match self.reason {
            StopReason::ToolTimeout => "timeout".to_owned(),
            ref reason => format!("refused:{reason}"),
        }
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "tool `{}` refused ({}): {}",
            self.tool, self.reason, self.detail
        )
    }
}

impl std::error::Error for Refused {}

impl crate::error_class::ErrorClass for Refused {
    fn error_class(&self) -> std::borrow::Cow<'static, str> {
        self.class().into()
    }
}
