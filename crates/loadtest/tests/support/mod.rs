//! The real server in this process, on a fresh SQLite file, for the tools to run against.

use hypnos_server::ServerConfig;
use tokio::{sync::oneshot, task::JoinHandle};

/// A running server; [`TestServer::stop`] shuts it down and checks that it stopped cleanly.
pub struct TestServer {
    /// Its base URL, `http://127.0.0.1:PORT`.
    pub url: String,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), hypnos_server::ServeError>>,
    _directory: tempfile::TempDir,
}

impl TestServer {
    /// Starts a server with the default settings, changed by `configure`.
    pub async fn start(configure: impl FnOnce(&mut ServerConfig)) -> Self {
        let directory = tempfile::tempdir().unwrap();
        let mut config = ServerConfig::parse_defaults();
        config.database_url = Some(format!(
            "sqlite://{}?mode=rwc",
            directory.path().join("hypnos.db").display()
        ));
        configure(&mut config);
        let state = hypnos_server::open(config).await.unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(hypnos_server::run(state, listener, async {
            let _ = stopped.await;
        }));
        Self {
            url,
            stop,
            task,
            _directory: directory,
        }
    }

    /// Shuts the server down.
    pub async fn stop(self) {
        self.stop.send(()).unwrap();
        self.task.await.unwrap().unwrap();
    }
}
