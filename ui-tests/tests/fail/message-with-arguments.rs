// `#[stateroom::message]` given arguments (renames belong to serde).
#[stateroom::message(rename_all = "camelCase")]
#[derive(serde::Deserialize)]
enum In {
    Say { text: String },
}

fn main() {}
