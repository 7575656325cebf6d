//! kubeadm init's two offline PKI phases in one call: `init phase certs all` and
//! `init phase kubeconfig all` (or a chosen set of kubeconfig files), with the same plans,
//! reuse rules and refusals as [`tree::create`] followed by [`kubeconfigs::create`].
//!
//! What joining them buys: every key both phases will need is generated in one parallel
//! batch. RSA key generation is nearly all of the cost of a tree, and its time per key varies
//! widely; two batches (eleven keys, then five) each wait for their slowest key with cores
//! idle, one batch of sixteen keeps every core busy to the end.

use std::time::SystemTime;

use crate::keygen::KeySupply;
use crate::kubeconfigs::{self, KubeconfigPlanItem, KubeconfigSpec};
use crate::tree::{self, Plan, TreeConfig};
use crate::{Dirs, Error};

/// What [`create`] did.
#[derive(Debug)]
#[non_exhaustive]
pub struct Created {
    /// The certificate tree's plan, as carried out.
    pub tree: Plan,
    /// Each kubeconfig file and what was done with it.
    pub kubeconfigs: Vec<KubeconfigPlanItem>,
}

/// Creates the certificate tree in `dirs.cert_dir`, then the kubeconfig `files` in
/// `dirs.kubeconfig_dir`, exactly as the two phases run one after the other would (a refused
/// tree writes nothing; kubeconfig files are planned against the CA the tree left), with the
/// keys of both made ahead in one batch.
pub fn create(
    dirs: &Dirs,
    config: &TreeConfig,
    files: &[KubeconfigSpec],
    now: SystemTime,
) -> Result<Created, Error> {
    kubetrust_fs::recover(&dirs.cert_dir)?;
    let plan = tree::plan(&dirs.cert_dir, config, now)?;
    let mut keys = KeySupply::new(config.encryption_algorithm);
    if plan.refusals().next().is_none() {
        // A kubeconfig file that exists now gets no new key (it is reused or refused).
        let missing_kubeconfigs = files
            .iter()
            .filter(|spec| {
                dirs.kubeconfig_dir
                    .join(spec.file_name)
                    .symlink_metadata()
                    .is_err()
            })
            .count();
        keys.reserve(plan.keys_to_create() + missing_kubeconfigs);
    }
    let tree = tree::carry_out(plan, config, now, &mut keys)?;
    let kubeconfigs = kubeconfigs::create_with(dirs, config, files, now, &mut keys)?;
    Ok(Created { tree, kubeconfigs })
}
