//! See the crate documentation (`src/lib.rs`): `cargo run -p example-axum-app`.

use example_axum_app::app;

#[tokio::main]
async fn main() {
    stateroom::init_logging();
    let (router, rooms) = match app().await {
        Ok(app) => app,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(1);
        }
    };
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let listener = match tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("error: cannot listen on port {port}: {error}");
            std::process::exit(1);
        }
    };
    let shutdown = async move {
        let _ = tokio::signal::ctrl_c().await;
        // The rooms close their clients (1001) while axum stops its own.
        rooms.shutdown().await;
    };
    if let Err(error) = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
    {
        eprintln!("error: {error}");
    }
}
