use crate::ClientData;
use http::{HeaderMap, Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::any::Any;
use std::fmt;

/// An HTTP request to a room (`GET`/`POST /rooms/{id}` by default), as the
/// service's `request` hook sees it: it runs in the room's task like every
/// other event, so it sees the same state as the room's WebSocket clients.
///
/// ```
/// use stateroom_core::RoomRequest;
///
/// let request = RoomRequest::new(http::Method::POST, r#"{"amount":3}"#);
/// #[derive(serde::Deserialize, Debug)]
/// struct Add { amount: i64 }
/// assert_eq!(request.json::<Add>().unwrap().amount, 3);
/// let bad = RoomRequest::new(http::Method::POST, "{oops");
/// assert_eq!(bad.json::<Add>().unwrap_err().status(), 400);
/// ```
#[derive(Clone, Debug)]
pub struct RoomRequest {
    method: Method,
    headers: HeaderMap,
    query: Option<String>,
    body: bytes::Bytes,
}

impl RoomRequest {
    /// A request with `method` and `body`, no headers and no query (the
    /// server fills those in; tests add what they need).
    #[must_use]
    pub fn new(method: Method, body: impl Into<bytes::Bytes>) -> Self {
        RoomRequest {
            method,
            headers: HeaderMap::new(),
            query: None,
            body: body.into(),
        }
    }

    /// Replaces the headers.
    #[must_use]
    pub fn with_headers(mut self, headers: HeaderMap) -> Self {
        self.headers = headers;
        self
    }

    /// Sets the raw query string.
    #[must_use]
    pub fn with_query(mut self, query: impl Into<String>) -> Self {
        self.query = Some(query.into());
        self
    }

    /// The HTTP method.
    #[must_use]
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The request's headers.
    #[must_use]
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The raw query string.
    #[must_use]
    pub fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }

    /// The body (at most the server's `--max-message-size`; larger gets 413
    /// before the hook runs).
    #[must_use]
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The body decoded as JSON; on failure, a 400 response saying why, to
    /// return as it is.
    ///
    /// # Errors
    /// A 400 [`RoomResponse`] when the body is not a `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, RoomResponse> {
        serde_json::from_slice(&self.body).map_err(|error| {
            RoomResponse::error(StatusCode::BAD_REQUEST, "invalid_body", &error.to_string())
        })
    }
}

/// What a room's `request` hook answers: a status and a body (JSON unless
/// said otherwise).
///
/// ```
/// use stateroom_core::RoomResponse;
///
/// let ok = RoomResponse::json(&serde_json::json!({"count": 3}));
/// assert_eq!(ok.status(), 200);
/// assert_eq!(ok.body(), br#"{"count":3}"#);
/// assert_eq!(ok.content_type(), "application/json");
/// let missing = RoomResponse::error(http::StatusCode::NOT_FOUND, "no_such_thing", "nothing here");
/// assert_eq!(missing.status(), 404);
/// assert_eq!(missing.body(), br#"{"error":{"code":"no_such_thing","message":"nothing here"}}"#.as_slice());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomResponse {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
}

impl RoomResponse {
    /// 200 with `value` as JSON (500 if it cannot be serialised).
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => RoomResponse {
                status: 200,
                content_type: "application/json",
                body,
            },
            Err(error) => RoomResponse::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "unserialisable",
                &error.to_string(),
            ),
        }
    }

    /// 200 with a plain-text body.
    #[must_use]
    pub fn text(body: impl Into<String>) -> Self {
        RoomResponse {
            status: 200,
            content_type: "text/plain; charset=utf-8",
            body: body.into().into_bytes(),
        }
    }

    /// `status` with an error in the framework's one error shape,
    /// `{"error":{"code":…,"message":…}}`.
    #[must_use]
    pub fn error(status: StatusCode, code: &str, message: &str) -> Self {
        RoomResponse {
            status: status.as_u16(),
            content_type: "application/json",
            body: crate::ErrorFrame::new(code, message).to_json().into_bytes(),
        }
    }

    /// A response as the runtime stored it (an `Idempotency-Key` replay):
    /// JSON or plain text, byte for byte. Not for services.
    #[doc(hidden)]
    #[must_use]
    pub fn from_stored(status: u16, json: bool, body: Vec<u8>) -> Self {
        RoomResponse {
            status,
            content_type: if json {
                "application/json"
            } else {
                "text/plain; charset=utf-8"
            },
            body,
        }
    }

    /// The same response with another status.
    #[must_use]
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status.as_u16();
        self
    }

    /// The HTTP status.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK)
    }

    /// The `Content-Type`.
    #[must_use]
    pub fn content_type(&self) -> &'static str {
        self.content_type
    }

    /// The body.
    #[must_use]
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

/// Why a command sent to a room through a server-side handle got no reply.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// The service has no `command` hook.
    #[error("the room's service has no `command` hook")]
    NoHook,
    /// The command, or the reply asked for, is not of the hook's types.
    #[error("the room's `command` hook takes a `{expected}`, not a `{got}`")]
    WrongType {
        /// The type the hook takes (or returns).
        expected: &'static str,
        /// The type that was sent (or asked for).
        got: &'static str,
    },
}

/// A command, type-erased on its way to the room (the handle's
/// `command::<C, R>` is the typed way in).
pub struct Command {
    value: Box<dyn Any + Send>,
    type_name: &'static str,
}

impl Command {
    /// Wraps `value`.
    pub fn new<T: Any + Send>(value: T) -> Self {
        Command {
            value: Box::new(value),
            type_name: std::any::type_name::<T>(),
        }
    }

    /// Whether the value is a `T`.
    #[must_use]
    pub fn is<T: Any>(&self) -> bool {
        self.value.is::<T>()
    }

    /// The value, if it is a `T`; else a [`CommandError::WrongType`].
    ///
    /// # Errors
    /// When the command is not a `T`.
    pub fn take<T: Any>(self) -> Result<T, CommandError> {
        let got = self.type_name;
        self.value
            .downcast::<T>()
            .map(|value| *value)
            .map_err(|_| CommandError::WrongType {
                expected: std::any::type_name::<T>(),
                got,
            })
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Command({})", self.type_name)
    }
}

/// A command's reply, type-erased (reusing the join data's box).
pub type Reply = ClientData;
