// `static_dir` given a path expression instead of a string.
#[derive(Default)]
struct Room;

#[stateroom::service(static_dir = web)]
impl Room {}
