use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;

/// The key of a named timer: the JSON form of any `Serialize` value, so a key
/// can be a string (`"turn"`) or a type of your own
/// (`Alarm::Kick(client)`). Setting a timer under a key that is already
/// pending replaces it; the `alarm` hook receives the key back.
///
/// ```
/// use stateroom_core::TimerKey;
///
/// #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
/// enum Alarm { Turn, Kick(u32) }
///
/// let key = TimerKey::new(&Alarm::Kick(7)).unwrap();
/// assert_eq!(key.as_json(), r#"{"Kick":7}"#);
/// assert_eq!(key.decode::<Alarm>().unwrap(), Alarm::Kick(7));
/// assert_eq!(TimerKey::new("turn").unwrap().decode::<String>().unwrap(), "turn");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimerKey(String);

impl TimerKey {
    /// The key for `value`.
    ///
    /// # Errors
    /// When `value` cannot be represented as JSON (a map with non-string keys).
    pub fn new<K: Serialize + ?Sized>(value: &K) -> Result<Self, serde_json::Error> {
        serde_json::to_string(value).map(TimerKey)
    }

    /// A key from its JSON form (as [`as_json`](Self::as_json) gave it);
    /// `None` if `json` is not JSON.
    #[must_use]
    pub fn from_json(json: &str) -> Option<Self> {
        serde_json::from_str::<serde::de::IgnoredAny>(json)
            .ok()
            .map(|_| TimerKey(json.to_owned()))
    }

    /// The key's JSON form.
    #[must_use]
    pub fn as_json(&self) -> &str {
        &self.0
    }

    /// Decodes the key back into the type it was made from.
    ///
    /// # Errors
    /// When the key was made from a value of another shape.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.0)
    }
}

impl fmt::Debug for TimerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TimerKey({})", self.0)
    }
}

impl fmt::Display for TimerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
