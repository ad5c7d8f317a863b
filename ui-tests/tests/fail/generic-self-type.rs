// A service type with a generic parameter.
use stateroom::ClientId;

#[derive(Default)]
struct Room<T> {
    items: Vec<T>,
}

#[stateroom::service]
impl<T: Default + Send + 'static> Room<T> {
    fn connect(&mut self, _client: ClientId) {
        self.items.push(T::default());
    }
}
