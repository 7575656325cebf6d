//! Conversion into kube-rs's kubeconfig type (feature `kube`), so a user gets a `kube::Client`
//! from our model without writing a file.

use crate::resolve::{absolutize_exec_command, resolve_path};
use crate::{Config, Error};

impl Config {
    /// Converts into [`kube::config::Kubeconfig`]. Relative paths are made absolute against the
    /// file each stanza came from, since kube-rs has no notion of that file.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let ours = kubetrust_kubeconfig::Config::from_file("/etc/kubernetes/admin.conf")?;
    /// let options = kube::config::KubeConfigOptions::default();
    /// let config = kube::Config::from_custom_kubeconfig(ours.to_kube()?, &options).await?;
    /// # let _ = config; Ok(()) }
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "kube")))]
    pub fn to_kube(&self) -> Result<kube::config::Kubeconfig, Error> {
        let mut absolute = self.clone();
        for named in &mut absolute.clusters {
            let cluster = &mut named.cluster;
            if !cluster.certificate_authority.is_empty() {
                cluster.certificate_authority = resolve_path(&cluster.origin, &cluster.certificate_authority)
                    .to_string_lossy()
                    .into_owned();
            }
        }
        for named in &mut absolute.users {
            let user = &mut named.user;
            for path in [
                &mut user.client_certificate,
                &mut user.client_key,
                &mut user.token_file,
            ] {
                if !path.is_empty() {
                    *path = resolve_path(&user.origin, path).to_string_lossy().into_owned();
                }
            }
            absolutize_exec_command(user);
        }
        serde_json::from_value(absolute.to_json_value()?).map_err(|e| Error::Convert(e.to_string()))
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "kube")))]
impl TryFrom<&Config> for kube::config::Kubeconfig {
    type Error = Error;

    fn try_from(config: &Config) -> Result<Self, Error> {
        config.to_kube()
    }
}
