// An unknown durability mode.
#[derive(Default, serde::Serialize, serde::Deserialize)]
struct Room;

#[stateroom::service(persist(durability = "sometimes"))]
impl Room {}
