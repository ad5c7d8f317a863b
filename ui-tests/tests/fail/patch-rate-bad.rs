// `patch_rate` of zero, and a private view that takes no client.
#[derive(Default, serde::Serialize)]
struct Room;

#[stateroom::service(patch_rate = "0ms")]
impl Room {
    fn view(&self) -> &Self {
        self
    }

    fn private_view(&self) -> u32 {
        0
    }
}
