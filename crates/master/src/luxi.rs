//! The LUXI server: translates requests on the master socket into
//! [`Master`] calls. No cluster logic lives here.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ganeti_luxi::server::Conn;
use ganeti_luxi::{Method, Request, Response};
use ganeti_types::GanetiError;
use serde_json::{json, Value};
use tokio::net::UnixListener;

use crate::Master;

/// Errors setting up the socket.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error("cannot listen on {path}: {source}")]
    Bind {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Bind the master socket (owner-only: it accepts cluster-changing requests).
pub fn bind(path: &Path) -> Result<UnixListener, ListenError> {
    use std::os::unix::fs::PermissionsExt;
    let err = |source| ListenError::Bind {
        path: path.display().to_string(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o750));
    }
    let _ = std::fs::remove_file(path);
    let l = UnixListener::bind(path).map_err(err)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(err)?;
    Ok(l)
}

/// Accept connections forever.
pub async fn serve(master: Arc<Master>, listener: UnixListener) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let m = master.clone();
                tokio::spawn(async move { handle_conn(m, stream).await });
            }
            Err(e) => {
                tracing::warn!("accept on master socket failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn handle_conn(m: Arc<Master>, stream: tokio::net::UnixStream) {
    let mut conn = Conn::new(stream);
    loop {
        let req = match conn.read().await {
            Ok(Some(r)) => r,
            Ok(None) => return,
            Err(e) => {
                tracing::debug!("luxi read: {e}");
                return;
            }
        };
        let resp = match req {
            Ok(req) => match dispatch(&m, req).await {
                Ok(v) => Response::ok(v),
                Err(e) => Response::err(&e),
            },
            Err(msg) => Response::err(&GanetiError::Generic(msg)),
        };
        if conn.write(&resp).await.is_err() {
            return;
        }
    }
}

fn arg(args: &Value, i: usize) -> &Value {
    args.get(i).unwrap_or(&Value::Null)
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn job_id(v: &Value) -> Result<u64, GanetiError> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .ok_or_else(|| GanetiError::wrong_input(format!("Invalid job id {v}")))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, GanetiError> + Send + 'static,
) -> Result<T, GanetiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| GanetiError::Generic(format!("internal error: {e}")))?
}

pub async fn dispatch(m: &Arc<Master>, req: Request) -> Result<Value, GanetiError> {
    let args = req.args;
    let m2 = m.clone();
    match req.method {
        Method::SubmitJob | Method::SubmitJobToDrainedQueue => {
            let ops = arg(&args, 0).as_array().cloned().unwrap_or_default();
            let drained_ok = req.method == Method::SubmitJobToDrainedQueue;
            let id = blocking(move || m2.submit_job(&ops, drained_ok)).await?;
            Ok(json!(id))
        }
        Method::SubmitManyJobs => {
            let jobs: Vec<Vec<Value>> = arg(&args, 0)
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|j| j.as_array().cloned().unwrap_or_default())
                        .collect()
                })
                .unwrap_or_default();
            let res = blocking(move || m2.submit_many(&jobs, false)).await?;
            Ok(Value::Array(
                res.into_iter()
                    .map(|r| match r {
                        Ok(id) => json!([true, id]),
                        Err(e) => json!([false, e.message()]),
                    })
                    .collect(),
            ))
        }
        Method::WaitForJobChange => {
            let id = job_id(arg(&args, 0))?;
            let fields = strings(arg(&args, 1));
            let prev = arg(&args, 2).clone();
            let serial = arg(&args, 3).as_u64().unwrap_or(0);
            let timeout = arg(&args, 4).as_f64().unwrap_or(10.0).clamp(0.0, 60.0);
            match m
                .wait_for_job_change(id, &fields, &prev, serial, Duration::from_secs_f64(timeout))
                .await?
            {
                None => Ok(json!("nochange")),
                Some((info, logs)) => Ok(json!([info, logs])),
            }
        }
        Method::CancelJob => {
            let id = job_id(arg(&args, 0))?;
            let (ok, msg) = blocking(move || m2.cancel_job(id)).await?;
            Ok(json!([ok, msg]))
        }
        Method::ChangeJobPriority => Err(GanetiError::wrong_input(
            "Changing job priorities is not supported by this release",
        )),
        Method::ArchiveJob => {
            let id = job_id(arg(&args, 0))?;
            Ok(json!(blocking(move || m2.archive_job(id)).await?))
        }
        Method::AutoArchiveJobs => {
            let age = arg(&args, 0).as_i64().unwrap_or(-1);
            let (n, left) = blocking(move || m2.auto_archive(age)).await?;
            Ok(json!([n, left]))
        }
        Method::QueryJobs => {
            let fields = strings(arg(&args, 1));
            let ids: Option<Vec<u64>> = arg(&args, 0)
                .as_array()
                .map(|a| a.iter().filter_map(|v| job_id(v).ok()).collect());
            // Polled by clients: read in place, without copying the config.
            m.store.read(|s| {
                let cfg = s
                    .config
                    .as_ref()
                    .ok_or_else(|| GanetiError::Config("The cluster is not initialised".into()))?;
                let row = |j| crate::querying::job_fields(cfg, j, &fields);
                let rows: Vec<Value> = match ids {
                    Some(ids) if !ids.is_empty() => ids
                        .iter()
                        .map(|id| {
                            s.jobs
                                .get(id)
                                .or_else(|| s.archived.get(id))
                                .map_or(Value::Null, row)
                        })
                        .collect(),
                    _ => s.jobs.values().map(row).collect(),
                };
                Ok(Value::Array(rows))
            })
        }
        Method::Query => {
            let q = crate::luxi_args::decode("Query", &args)?;
            blocking(move || {
                let fields = q.fields.unwrap_or_default();
                crate::querying::query(&m2, &q.resource, &fields, q.filter.as_ref())
            })
            .await
        }
        Method::QueryFields => {
            let q = crate::luxi_args::decode("QueryFields", &args)?;
            crate::querying::query_fields(&q.resource, q.fields.as_deref())
        }
        Method::QueryClusterInfo => blocking(move || crate::cmdlib::cluster_info(&m2)).await,
        Method::QueryConfigValues => {
            let names = strings(arg(&args, 0));
            let drained = m.store.read(|s| s.drained);
            let pause = m.store.read(|s| s.watcher_pause);
            m.with_config(|cfg| {
                names
                    .iter()
                    .map(|n| {
                        Ok(match n.as_str() {
                            "cluster_name" => json!(cfg.cluster.cluster_name),
                            "master_node" => json!(cfg.master_node().map(|x| x.name.clone())),
                            "drain_flag" => json!(drained),
                            "watcher_pause" => json!(pause),
                            "enabled_hypervisors" => json!(cfg.cluster.enabled_hypervisors),
                            "default_hypervisor" => json!(cfg.cluster.default_hypervisor),
                            "mac_prefix" => json!(cfg.cluster.mac_prefix),
                            "enabled_disk_templates" => json!(cfg.cluster.enabled_disk_templates),
                            other => {
                                return Err(GanetiError::wrong_input(format!(
                                    "Unknown configuration value '{other}'"
                                )))
                            }
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(Value::Array)
            })?
        }
        Method::QueryTags => {
            let kind = arg(&args, 0).as_str().unwrap_or("").to_string();
            let name = arg(&args, 1).as_str().map(str::to_owned);
            let tags = m.with_config(|cfg| {
                Ok::<_, GanetiError>(match (kind.as_str(), name) {
                    ("cluster", _) => cfg.cluster.tags.clone(),
                    ("instance", Some(n)) => cfg.expand_instance(&n)?.tags.clone(),
                    ("node", Some(n)) => cfg.expand_node(&n)?.tags.clone(),
                    ("nodegroup", Some(n)) => cfg.lookup_group(&n)?.tags.clone(),
                    ("network", Some(n)) => cfg.lookup_network(&n)?.tags.clone(),
                    _ => {
                        return Err(GanetiError::wrong_input(format!(
                            "Invalid tag kind '{kind}'"
                        )))
                    }
                })
            })??;
            Ok(json!(tags))
        }
        Method::SetDrainFlag => {
            let flag = arg(&args, 0).as_bool().unwrap_or(false);
            blocking(move || m2.set_drain(flag)).await?;
            Ok(json!(true))
        }
        Method::SetWatcherPause => {
            let until = arg(&args, 0).as_f64();
            m.store
                .propose(crate::state::Command::SetWatcherPause(until))
                .await
                .map_err(|e| GanetiError::OpExec(e.to_string()))?;
            Ok(json!(until))
        }
        Method::QueryFilters => {
            let (uuids, fields) = crate::filters::decode_query_args(&args)?;
            m.query_filters(&uuids, &fields)
        }
        Method::ReplaceFilter => {
            let req = crate::filters::FilterRequest::from_luxi_args(&args)?;
            Ok(json!(blocking(move || m2.replace_filter(req)).await?))
        }
        Method::DeleteFilter => {
            let uuid = crate::filters::decode_delete_args(&args)?;
            blocking(move || m2.delete_filter(&uuid)).await?;
            Ok(Value::Null)
        }
    }
}
