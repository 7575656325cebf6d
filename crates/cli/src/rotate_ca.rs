//! `kubetrust certs rotate-ca plan|apply`: a CA's rotation without downtime, one step at a
//! time, with a restart of the listed components between steps.

use std::io::Write;
use std::path::PathBuf;
use std::time::SystemTime;

use clap::{Args, Subcommand};
use kubetrust::pki::Dirs;
use kubetrust::pki::ca_rotation::{self, Step};
use kubetrust::pki::tree::CLUSTER_CA;

use crate::settings::{ConfigArg, DirArgs};
use crate::{CommandResult, Output};

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Show where a CA's rotation stands and what its next step writes and restarts
    /// (`-o json` for scripts).
    Plan(PlanArgs),
    /// Take one step: `stage` (trust a new CA everywhere), `issue` (sign with it and re-issue
    /// everything), `retire` (drop the old CA). A step already taken is a no-op; one
    /// interrupted is finished; one out of order is refused.
    Apply(ApplyArgs),
}

#[derive(Debug, Args)]
pub(crate) struct Target {
    /// The CA: ca, front-proxy-ca or etcd-ca.
    #[arg(long, value_name = "CA", default_value = "ca")]
    ca: String,
    #[command(flatten)]
    config: ConfigArg,
    #[command(flatten)]
    dirs: DirArgs,
}

#[derive(Debug, Args)]
pub(crate) struct PlanArgs {
    #[command(flatten)]
    target: Target,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Text)]
    output: Output,
}

#[derive(Debug, Args)]
pub(crate) struct ApplyArgs {
    #[command(flatten)]
    target: Target,
    /// The step: stage, issue or retire.
    #[arg(long, value_name = "STEP", value_parser = parse_step)]
    step: Step,
    /// After each step of the cluster CA, also publish ca.crt's bundle in the cluster's
    /// `kube-public/cluster-info` (for joining nodes), through this admin kubeconfig.
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
}

fn parse_step(text: &str) -> Result<Step, String> {
    Step::parse(text).ok_or_else(|| format!("{text:?} is not a step: stage, issue or retire"))
}

impl Target {
    fn load(&self) -> Result<(Dirs, kubetrust::pki::tree::TreeConfig), Box<dyn std::error::Error>> {
        let file = self.config.load()?;
        let cert_dir = self.dirs.cert_dir(file.as_ref());
        let config = crate::certs::renewal_config(file.as_ref(), &cert_dir);
        Ok((Dirs::new(cert_dir, self.dirs.kubeconfig_dir.clone()), config))
    }
}

impl Command {
    pub(crate) fn run(self) -> CommandResult {
        match self {
            Self::Plan(args) => args.run(),
            Self::Apply(args) => args.run(),
        }
    }
}

impl PlanArgs {
    fn run(self) -> CommandResult {
        let (dirs, config) = self.target.load()?;
        // A step a crash interrupted mid-batch is completed first, so the plan sees where it is.
        kubetrust::fs::recover(&dirs.cert_dir)?;
        kubetrust::fs::recover(&dirs.kubeconfig_dir)?;
        let plan = ca_rotation::plan_rotation(&dirs, &config, &self.target.ca)?;
        let text = match self.output {
            Output::Json => serde_json::to_string_pretty(&plan)? + "\n",
            Output::Text => {
                let list = |items: Vec<String>| {
                    if items.is_empty() {
                        "-".to_owned()
                    } else {
                        items.join(", ")
                    }
                };
                let mut text = format!("CA {}: {}, next step: {}\n", plan.ca, plan.phase, plan.next);
                text += &format!(
                    "writes: {}\n",
                    list(plan.files.iter().map(|f| f.display().to_string()).collect())
                );
                text += &format!(
                    "re-issues: {}\n",
                    list(plan.reissues.iter().map(|r| (*r).to_owned()).collect())
                );
                text += &format!(
                    "restart after it: {}\n",
                    list(plan.reload.iter().map(|r| (*r).to_owned()).collect())
                );
                if let Some(reason) = &plan.blocked {
                    text += &format!("blocked: {reason}\n");
                }
                text
            }
        };
        Ok(std::io::stdout().lock().write_all(text.as_bytes())?)
    }
}

impl ApplyArgs {
    fn run(self) -> CommandResult {
        let (dirs, config) = self.target.load()?;
        let ca = &self.target.ca;
        let reload = ca_rotation::plan_rotation(&dirs, &config, ca)?.reload;
        let done = ca_rotation::apply_rotation(&dirs, &config, ca, self.step, SystemTime::now())?;
        done.iter().for_each(|line| eprintln!("{line}"));
        // Also when the files were done already: a run that stopped after them publishes now.
        if let Some(kubeconfig) = &self.kubeconfig
            && *ca == CLUSTER_CA.name
        {
            publish_cluster_info(kubeconfig, &dirs)?;
        }
        if done.is_empty() {
            println!("The {} step of the rotation of {ca} is done already.", self.step);
            return Ok(());
        }
        let next = ca_rotation::plan_rotation(&dirs, &config, ca)?;
        println!("Restart {} so that they read what changed.", reload.join(", "));
        if next.phase != ca_rotation::Phase::Idle {
            println!(
                "Then: kubetrust certs rotate-ca apply --ca {ca} --step {}",
                next.next
            );
        }
        Ok(())
    }
}

/// `kube-public/cluster-info` with ca.crt's bundle, re-signed for every token.
fn publish_cluster_info(kubeconfig: &std::path::Path, dirs: &Dirs) -> CommandResult {
    let bundle = std::fs::read(CLUSTER_CA.cert_path(&dirs.cert_dir))?;
    crate::api::block_on(async {
        let cluster = crate::api::client_for(kubeconfig).await?;
        kubetrust::bootstrap_token::api::setup_cluster_info(&cluster.client, &cluster.server, &bundle)
            .await?;
        eprintln!("[rotate-ca] Published ca.crt's bundle in kube-public/cluster-info");
        Ok(())
    })
}
