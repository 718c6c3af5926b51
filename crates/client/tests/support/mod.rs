//! The real server, in this process on a fresh SQLite database, for the library's tests.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

use hypnos_server::ServerConfig;
use tokio::sync::oneshot;

/// A running server; [`Server::stop`] ends it and checks it ended cleanly.
pub struct Server {
    /// Its base URL.
    pub base: String,
    stop: oneshot::Sender<()>,
    running: tokio::task::JoinHandle<Result<(), hypnos_server::ServeError>>,
    _data: tempfile::TempDir,
}

impl Server {
    pub async fn start() -> Self {
        let data = tempfile::tempdir().unwrap();
        let mut config = ServerConfig::parse_defaults();
        config.database_url = Some(format!(
            "sqlite://{}?mode=rwc",
            data.path().join("hypnos.db").display()
        ));
        let state = hypnos_server::open(config).await.unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let running = tokio::spawn(hypnos_server::run(state, listener, async {
            let _ = stopped.await;
        }));
        Self {
            base,
            stop,
            running,
            _data: data,
        }
    }

    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.running.await.unwrap().unwrap();
    }
}
