//! A whole run: sign up the accounts, warm up, open the window, let the workers log in until it
//! closes, read the CPU counters around it and build the [`Report`].

use std::{
    collections::BTreeMap,
    sync::Arc,
    time::{Duration, Instant},
};

use hypnos_client::Api;
use tokio::{
    sync::{Barrier, Semaphore, watch},
    task::JoinSet,
};

use crate::{
    LoadError,
    account::{self, LoadAccount, SharedKeys},
    cli::Args,
    cpu,
    login::{self, Failure},
    report::{Latency, ProcessCpu, Report},
};

/// How long a worker pauses after a failed log-in, so a refusing server is not spun against.
const PAUSE_AFTER_FAILURE: Duration = Duration::from_millis(10);

/// How long one request may take before it counts as a transport failure.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What one worker saw in the window.
#[derive(Debug, Default)]
struct WorkerTally {
    latencies: Vec<Duration>,
    request_times: Vec<login::RequestTimes>,
    failures: BTreeMap<String, u64>,
}

impl WorkerTally {
    fn fail(&mut self, failure: &Failure) {
        *self.failures.entry(failure.key()).or_default() += 1;
    }
}

/// The HTTP client every worker shares: keep-alive, enough idle connections for every worker,
/// no proxy.
pub fn http_client(concurrency: usize) -> Result<reqwest::Client, LoadError> {
    Ok(reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(concurrency)
        .tcp_nodelay(true)
        .timeout(REQUEST_TIMEOUT)
        .build()?)
}

/// Makes and signs up `args.accounts` fresh accounts, as many at once as there are cores (the
/// two PBKDF2 derivations per account run on the blocking pool).
pub async fn sign_up_accounts(args: &Args) -> Result<Vec<LoadAccount>, LoadError> {
    let api = Api::new(args.base_url())?;
    let shared = Arc::new(
        tokio::task::spawn_blocking(SharedKeys::generate)
            .await
            .map_err(|err| LoadError::Setup(format!("generating the RSA key pair: {err}")))??,
    );
    let parallel = std::thread::available_parallelism().map_or(2, |n| n.get());
    let permits = Arc::new(Semaphore::new(parallel));
    let mut tasks = JoinSet::new();
    for index in 0..args.accounts {
        let (api, shared, permits) = (api.clone(), shared.clone(), permits.clone());
        let prefix = args.email_prefix.clone();
        tasks.spawn(async move {
            let _permit = permits
                .acquire_owned()
                .await
                .map_err(|err| LoadError::Setup(err.to_string()))?;
            let (account, request) =
                tokio::task::spawn_blocking(move || account::prepare(&shared, &prefix, index))
                    .await
                    .map_err(|err| LoadError::Setup(format!("preparing an account: {err}")))??;
            account::sign_up(&api, &request).await?;
            Ok::<_, LoadError>((index, account))
        });
    }
    let mut accounts: Vec<Option<LoadAccount>> = (0..args.accounts).map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        let (index, account) =
            joined.map_err(|err| LoadError::Setup(format!("a sign-up task failed: {err}")))??;
        accounts[index] = Some(account);
    }
    Ok(accounts.into_iter().flatten().collect())
}

/// Runs the whole measurement described by `args`.
pub async fn run(args: &Args) -> Result<Report, LoadError> {
    args.validate()?;
    let base: Arc<str> = Arc::from(args.base_url());
    let http = http_client(args.concurrency)?;
    let setup_started = Instant::now();
    let accounts = Arc::new(sign_up_accounts(args).await?);
    let setup = setup_started.elapsed();

    // Workers warm up, meet at the barrier, then wait for the window's deadline.
    let barrier = Arc::new(Barrier::new(args.concurrency + 1));
    let (open_window, window_opened) = watch::channel(None::<(Instant, Instant)>);
    let mut workers = JoinSet::new();
    for worker in 0..args.concurrency {
        let (http, base, accounts, barrier) = (
            http.clone(),
            base.clone(),
            accounts.clone(),
            barrier.clone(),
        );
        let mut window_opened = window_opened.clone();
        let (warmup, stride) = (args.warmup, args.concurrency);
        // In an open loop each worker starts a log-in every `concurrency / rate` seconds, the
        // workers spread evenly over that period.
        let schedule = args.rate.map(|rate| {
            let period = Duration::from_secs_f64(stride as f64 / rate);
            (period, period.mul_f64(worker as f64 / stride as f64))
        });
        workers.spawn(async move {
            let count = accounts.len();
            let mut next = worker % count;
            for _ in 0..warmup {
                let _ = login::log_in(&http, &base, &accounts[next]).await;
                next = (next + stride) % count;
            }
            barrier.wait().await;
            let (opened, deadline) = match window_opened.wait_for(Option::is_some).await {
                Ok(window) => window.unwrap_or_else(|| (Instant::now(), Instant::now())),
                Err(_) => return WorkerTally::default(),
            };
            // Worker w takes accounts w, w + C, w + 2C, … (mod N): with C = N each worker keeps
            // its own account, with C dividing N the workers share none and all are used.
            let mut next = worker % count;
            let mut tally = WorkerTally::default();
            let mut scheduled = opened + schedule.map_or(Duration::ZERO, |(_, offset)| offset);
            while scheduled < deadline {
                let started = match schedule {
                    Some((period, _)) => {
                        tokio::time::sleep_until(scheduled.into()).await;
                        let started = scheduled;
                        scheduled += period;
                        started
                    }
                    None => {
                        scheduled = Instant::now();
                        scheduled
                    }
                };
                match login::log_in(&http, &base, &accounts[next]).await {
                    Ok(logged_in) => {
                        tally.latencies.push(started.elapsed());
                        tally.request_times.push(logged_in.times);
                    }
                    Err(failure) => {
                        tally.fail(&failure);
                        tokio::time::sleep(PAUSE_AFTER_FAILURE).await;
                    }
                }
                next = (next + stride) % count;
                if schedule.is_none() {
                    scheduled = Instant::now();
                }
            }
            tally
        });
    }

    barrier.wait().await;
    let ticks_per_second = cpu::clock_ticks_per_second();
    let server_before = args.server_pid.map(cpu::process_ticks).transpose()?;
    let client_before = cpu::own_ticks().ok();
    let machine_before = cpu::machine_ticks().ok();
    let database_before = args
        .database_process
        .as_deref()
        .map(cpu::ticks_by_name)
        .transpose()?;
    let started = Instant::now();
    let _ = open_window.send(Some((started, started + args.duration)));

    let mut latencies = Vec::new();
    let mut request_times = Vec::new();
    let mut failures_by_kind = BTreeMap::new();
    while let Some(joined) = workers.join_next().await {
        let tally = joined.map_err(|err| LoadError::Setup(format!("a worker failed: {err}")))?;
        latencies.extend(tally.latencies);
        request_times.extend(tally.request_times);
        for (kind, count) in tally.failures {
            *failures_by_kind.entry(kind).or_default() += count;
        }
    }
    let window = started.elapsed();
    let server_after = args.server_pid.map(cpu::process_ticks).transpose()?;
    let client_after = cpu::own_ticks().ok();
    let machine_after = cpu::machine_ticks().ok();
    let database_after = args
        .database_process
        .as_deref()
        .map(cpu::ticks_by_name)
        .transpose()?;

    let logins = latencies.len() as u64;
    let cpu_of = |process: String, before: Option<u64>, after: Option<u64>| {
        Some(ProcessCpu::new(
            process,
            after?.saturating_sub(before?),
            ticks_per_second,
            window,
            logins,
        ))
    };
    Ok(Report {
        server: base.to_string(),
        accounts: accounts.len(),
        concurrency: args.concurrency,
        offered_rate: args.rate,
        setup_seconds: setup.as_secs_f64(),
        duration_seconds: args.duration.as_secs_f64(),
        window_seconds: window.as_secs_f64(),
        logins,
        logins_per_second: Report::rate(logins, window),
        latency: Latency::of(latencies),
        request_latency: Latency::of(request_times.iter().flatten().copied().collect()),
        step_latency: login::Step::ALL
            .iter()
            .enumerate()
            .map(|(index, step)| {
                let times = request_times.iter().map(|times| times[index]).collect();
                (step.name().to_owned(), Latency::of(times))
            })
            .collect(),
        failures: failures_by_kind.values().sum(),
        failures_by_kind,
        server_cpu: args
            .server_pid
            .and_then(|pid| cpu_of(pid.to_string(), server_before, server_after)),
        client_cpu: cpu_of(std::process::id().to_string(), client_before, client_after),
        database_cpu: match (&args.database_process, database_before, database_after) {
            (Some(name), Some(before), Some(after)) => cpu_of(
                format!("all `{name}` processes"),
                Some(0),
                Some(cpu::ticks_between(&before, &after)),
            ),
            _ => None,
        },
        machine_busy: match (machine_before, machine_after) {
            (Some((busy0, total0)), Some((busy1, total1))) if total1 > total0 => {
                Some(busy1.saturating_sub(busy0) as f64 / (total1 - total0) as f64)
            }
            _ => None,
        },
    })
}
