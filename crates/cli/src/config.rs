//! `kubetrust config ...`: kubeadm's configuration as kubeadm prints it.

use std::io::Write;

use clap::Subcommand;

use crate::CommandResult;

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Print kubeadm configuration.
    #[command(subcommand)]
    Print(Print),
}

#[derive(Debug, Subcommand)]
pub(crate) enum Print {
    /// Print the default JoinConfiguration (kubeadm.k8s.io/v1beta4) as `kubeadm config print
    /// join-defaults` does: a placeholder token and endpoint, this host's name.
    JoinDefaults,
}

/// kubeadm's defaulted JoinConfiguration (v1beta4 `SetDefaults_*` over `config print`'s
/// placeholder discovery: token `abcdef.0123456789abcdef`, endpoint `kube-apiserver:6443`,
/// unsafe skip of CA verification), keys in kubeadm's (sorted) order. `{name}` is the host name.
const JOIN_DEFAULTS: &str = "apiVersion: kubeadm.k8s.io/v1beta4
caCertPath: /etc/kubernetes/pki/ca.crt
discovery:
  bootstrapToken:
    apiServerEndpoint: kube-apiserver:6443
    token: abcdef.0123456789abcdef
    unsafeSkipCAVerification: true
  tlsBootstrapToken: abcdef.0123456789abcdef
kind: JoinConfiguration
nodeRegistration:
  criSocket: unix:///var/run/containerd/containerd.sock
  imagePullPolicy: IfNotPresent
  imagePullSerial: true
  name: {name}
  taints: null
timeouts:
  controlPlaneComponentHealthCheck: 4m0s
  discovery: 5m0s
  etcdAPICall: 2m0s
  kubeletHealthCheck: 4m0s
  kubernetesAPICall: 1m0s
  tlsBootstrap: 5m0s
  upgradeManifests: 5m0s
";

impl Command {
    pub(crate) fn run(self) -> CommandResult {
        let Self::Print(Print::JoinDefaults) = self;
        let text = JOIN_DEFAULTS.replace("{name}", &crate::settings::hostname());
        Ok(std::io::stdout().lock().write_all(text.as_bytes())?)
    }
}
