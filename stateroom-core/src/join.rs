use http::HeaderMap;
use http::StatusCode;
use std::any::Any;
use std::borrow::Cow;
use std::fmt;
use std::net::SocketAddr;

/// A client asking to join a room, as the `join` hook sees it: before the
/// WebSocket upgrade, so a rejection costs no socket and runs no other hook.
///
/// ```
/// use stateroom_core::JoinRequest;
///
/// let request = JoinRequest::new("lobby")
///     .with_query("token=s3cret&name=ada%20l")
///     .with_header("authorization", "Bearer abc.def")
///     .with_header("cookie", "theme=dark; session=42");
/// assert_eq!(request.room_id(), "lobby");
/// assert_eq!(request.path(), "/ws/lobby");
/// assert_eq!(request.query_param("name").as_deref(), Some("ada l"));
/// assert_eq!(request.bearer_token(), Some("abc.def"));
/// assert_eq!(request.cookie("session"), Some("42"));
/// assert_eq!(request.origin(), None);
/// ```
#[derive(Clone, Debug)]
pub struct JoinRequest {
    room_id: String,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    peer: Option<SocketAddr>,
    /// The client's address as the server worked it out behind trusted
    /// proxies (`None`: the peer's).
    client_ip: Option<std::net::IpAddr>,
    reservation: Option<serde_json::Value>,
}

impl JoinRequest {
    /// A request for `room_id` at `/ws/{room_id}` with no query, no headers and
    /// no peer address (the server fills those in; tests add what they need).
    #[must_use]
    pub fn new(room_id: impl Into<String>) -> Self {
        let room_id = room_id.into();
        JoinRequest {
            path: format!("/ws/{room_id}"),
            room_id,
            query: None,
            headers: HeaderMap::new(),
            peer: None,
            client_ip: None,
            reservation: None,
        }
    }

    /// Replaces the request path (where the room is mounted).
    #[must_use]
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Sets the raw query string (without the `?`).
    #[must_use]
    pub fn with_query(mut self, query: impl Into<String>) -> Self {
        self.query = Some(query.into());
        self
    }

    /// Adds a header. A name or value that is not valid HTTP is ignored.
    #[must_use]
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(value),
        ) {
            self.headers.append(name, value);
        }
        self
    }

    /// Replaces every header.
    #[must_use]
    pub fn with_headers(mut self, headers: HeaderMap) -> Self {
        self.headers = headers;
        self
    }

    /// Sets the peer's address.
    #[must_use]
    pub fn with_peer(mut self, peer: SocketAddr) -> Self {
        self.peer = Some(peer);
        self
    }

    /// The room the client asks to join.
    #[must_use]
    pub fn room_id(&self) -> &str {
        &self.room_id
    }

    /// The request path, for example `/ws/lobby`.
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The raw query string, without the `?`.
    #[must_use]
    pub fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }

    /// The first query parameter called `name`, percent-decoded (`+` reads
    /// as a space).
    #[must_use]
    pub fn query_param(&self, name: &str) -> Option<Cow<'_, str>> {
        let query = self.query.as_deref()?;
        form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }

    /// Every header of the upgrade request.
    #[must_use]
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The first `name` header, if it is present and valid UTF-8. Names are
    /// case-insensitive.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }

    /// The token of an `Authorization: Bearer <token>` header.
    #[must_use]
    pub fn bearer_token(&self) -> Option<&str> {
        let value = self.header("authorization")?;
        let (scheme, token) = value.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim())
            .filter(|token| !token.is_empty())
    }

    /// The value of cookie `name` from the `Cookie` headers.
    #[must_use]
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.headers
            .get_all("cookie")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value)
    }

    /// The `Origin` header (browsers always send it with a WebSocket).
    #[must_use]
    pub fn origin(&self) -> Option<&str> {
        self.header("origin")
    }

    /// The `User-Agent` header.
    #[must_use]
    pub fn user_agent(&self) -> Option<&str> {
        self.header("user-agent")
    }

    /// The address of the TCP peer (a proxy's, behind one: use
    /// [`client_ip`](Self::client_ip) for the client's).
    #[must_use]
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// The client's address: the TCP peer's, or, when the peer is a proxy
    /// the server trusts (`--trusted-proxies`), the right-most address of
    /// `Forwarded` (else `X-Forwarded-For`) that is not a trusted proxy, the
    /// one the first trusted proxy saw. Never the left-most address, which
    /// the client writes itself. `None` only for a request with no peer (a
    /// test's).
    #[must_use]
    pub fn client_ip(&self) -> Option<std::net::IpAddr> {
        self.client_ip.or(self.peer.map(|peer| peer.ip()))
    }

    /// Works out [`client_ip`](Self::client_ip) from the peer and the
    /// headers, trusting the proxies in `trusted` (the server does this for
    /// every join; tests call it to play a request through a proxy).
    #[must_use]
    pub fn with_trusted_proxies(mut self, trusted: &[crate::TrustedNet]) -> Self {
        self.client_ip = self
            .peer
            .map(|peer| crate::client_ip::client_ip(peer.ip(), &self.headers, trusted));
        self
    }

    /// The options of the matchmaking call that reserved this client's seat
    /// (`POST /matchmake/{kind}`), when the join brings a valid seat
    /// reservation (`?reservation=…`); `None` for any other join. The
    /// runtime checks the reservation before the `join` hook runs: a join
    /// with an unknown, used or expired one never reaches it (410).
    #[must_use]
    pub fn reservation(&self) -> Option<&serde_json::Value> {
        self.reservation.as_ref()
    }

    /// Attaches a reservation's options (the runtime does, and tests that
    /// play a matchmade client).
    #[must_use]
    pub fn with_reservation(mut self, options: serde_json::Value) -> Self {
        self.reservation = Some(options);
        self
    }
}

/// The `join` hook's refusal: the upgrade request is answered with this
/// status and a short plain-text body, and no socket opens.
///
/// ```
/// use stateroom_core::{Reject, http::StatusCode};
///
/// let reject = Reject::unauthorized("a token is required");
/// assert_eq!(reject.status(), StatusCode::UNAUTHORIZED);
/// assert_eq!(reject.body(), "a token is required");
/// assert_eq!(Reject::forbidden("banned").status(), 403);
/// let slow = Reject::new(StatusCode::TOO_MANY_REQUESTS, "slow down");
/// assert_eq!(slow.status(), StatusCode::TOO_MANY_REQUESTS);
/// assert_eq!(Reject::new(StatusCode::INTERNAL_SERVER_ERROR, "no").status(), 403);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    status: StatusCode,
    body: String,
}

impl Reject {
    /// 401: the client did not say who it is (no token, or an invalid one).
    #[must_use]
    pub fn unauthorized(body: impl Into<String>) -> Self {
        Reject {
            status: StatusCode::UNAUTHORIZED,
            body: body.into(),
        }
    }

    /// 403: the client is known but may not join.
    #[must_use]
    pub fn forbidden(body: impl Into<String>) -> Self {
        Reject {
            status: StatusCode::FORBIDDEN,
            body: body.into(),
        }
    }

    /// A refusal with another client-error status (400–499, such as
    /// `StatusCode::TOO_MANY_REQUESTS`); anything else becomes 403.
    #[must_use]
    pub fn new(status: StatusCode, body: impl Into<String>) -> Self {
        Reject {
            status: if status.is_client_error() {
                status
            } else {
                StatusCode::FORBIDDEN
            },
            body: body.into(),
        }
    }

    /// The runtime's refusal of a join the room has no seat for (503, so
    /// that clients retry). Not for services, whose refusals are 4xx.
    #[doc(hidden)]
    #[must_use]
    pub fn unavailable(body: impl Into<String>) -> Self {
        Reject {
            status: StatusCode::SERVICE_UNAVAILABLE,
            body: body.into(),
        }
    }

    /// The HTTP status.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response body.
    #[must_use]
    pub fn body(&self) -> &str {
        &self.body
    }
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.body)
    }
}

/// What an accepted join attached to its client (the user's name and role
/// from a verified token, say): kept by the room for that client, readable
/// in every later hook through
/// [`StateroomContext::client_data`](crate::StateroomContext::client_data),
/// dropped after the client's `disconnect`.
///
/// ```
/// use stateroom_core::ClientData;
///
/// let data = ClientData::new(String::from("ada"));
/// assert_eq!(data.downcast_ref::<String>().map(String::as_str), Some("ada"));
/// assert_eq!(data.downcast_ref::<u32>(), None);
/// assert_eq!(data.type_name(), "alloc::string::String");
/// ```
pub struct ClientData {
    value: Box<dyn Any + Send>,
    type_name: &'static str,
    /// Who the client is, when the `join` hook said so with a [`Seat`].
    principal: Option<String>,
}

/// What a `join` hook returns to seat a client by who it is: its data, and
/// a principal key (a user id from a verified token, say). A join for a
/// principal whose earlier seat in the room is held for a resume (its
/// connection dropped, or the server restarted) takes that seat over: the
/// same `ClientId`, the `reconnect` hook instead of `connect`, and no ghost
/// left in the room for the rest of the window. `client_data` reads the
/// data as if it had been returned alone.
///
/// ```
/// use stateroom_core::{ClientData, Seat};
///
/// let data = ClientData::new(Seat::new("user-42", String::from("ada")));
/// assert_eq!(data.principal(), Some("user-42"));
/// assert_eq!(data.downcast_ref::<String>().map(String::as_str), Some("ada"));
/// ```
pub struct Seat {
    principal: String,
    data: ClientData,
}

impl Seat {
    /// The client `principal`, with `data` attached.
    pub fn new<T: Any + Send>(principal: impl Into<String>, data: T) -> Self {
        Seat {
            principal: principal.into(),
            data: ClientData::new(data),
        }
    }
}

impl fmt::Debug for Seat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Seat")
            .field("principal", &self.principal)
            .field("data", &self.data)
            .finish()
    }
}

impl ClientData {
    /// Wraps `value` (a [`Seat`]: its data, under its principal).
    pub fn new<T: Any + Send>(value: T) -> Self {
        let boxed: Box<dyn Any + Send> = Box::new(value);
        match boxed.downcast::<Seat>() {
            Ok(seat) => {
                let Seat { principal, data } = *seat;
                ClientData {
                    principal: Some(principal),
                    ..data
                }
            }
            Err(value) => ClientData {
                value,
                type_name: std::any::type_name::<T>(),
                principal: None,
            },
        }
    }

    /// The principal key a [`Seat`] gave the client, if any.
    #[must_use]
    pub fn principal(&self) -> Option<&str> {
        self.principal.as_deref()
    }

    /// No data, under `principal` (a seat restored from a snapshot, whose
    /// data was not saved). Not for services.
    #[doc(hidden)]
    #[must_use]
    pub fn for_principal(principal: Option<String>) -> Self {
        ClientData {
            principal,
            ..ClientData::none()
        }
    }

    /// No data (`()`): what a room without a `join` hook attaches.
    #[must_use]
    pub fn none() -> Self {
        ClientData::new(())
    }

    /// The value, if it is a `T`.
    #[must_use]
    pub fn downcast_ref<T: Any>(&self) -> Option<&T> {
        self.value.downcast_ref()
    }

    /// The value, if it is a `T`.
    #[must_use]
    pub fn into_inner<T: Any>(self) -> Option<T> {
        self.value.downcast::<T>().ok().map(|value| *value)
    }

    /// The name of the type the value was made from.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }
}

impl Default for ClientData {
    fn default() -> Self {
        ClientData::none()
    }
}

impl fmt::Debug for ClientData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientData({})", self.type_name)
    }
}
