// A `migrate` hook that takes `self`.
use stateroom::serde_json::Value;

#[derive(Default, serde::Serialize, serde::Deserialize)]
struct Room;

#[stateroom::service(persist(version = 2))]
impl Room {
    fn migrate(&self, _from: u32, state: Value) -> Result<Value, String> {
        Ok(state)
    }
}
