//! What the node trusts before it knows the cluster: pins, or an explicit, loudly named skip.

use kubetrust_pki::CaCertHash;

use crate::Error;

/// One or more `sha256:` pins; a CA bundle passes when any certificate matches any pin.
/// It cannot be empty, so an empty list of `--discovery-token-ca-cert-hash` flags can never
/// turn into "trust anything".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PinSet(Vec<CaCertHash>);

impl PinSet {
    /// A set of already-parsed pins; empty is [`Error::NoPins`].
    pub fn new(pins: impl IntoIterator<Item = CaCertHash>) -> Result<Self, Error> {
        let pins: Vec<CaCertHash> = pins.into_iter().collect();
        if pins.is_empty() {
            Err(Error::NoPins)
        } else {
            Ok(Self(pins))
        }
    }

    /// Parses `sha256:<hex>` strings with kubeadm's rules and texts; every input is checked,
    /// not just the first.
    pub fn parse<S: AsRef<str>>(inputs: impl IntoIterator<Item = S>) -> Result<Self, Error> {
        let pins = inputs
            .into_iter()
            .map(|s| s.as_ref().parse::<CaCertHash>().map_err(Error::InvalidPin))
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(pins)
    }

    /// The pins.
    pub fn pins(&self) -> &[CaCertHash] {
        &self.0
    }

    /// Whether `pin` is in the set (each comparison constant-time).
    pub fn contains(&self, pin: &CaCertHash) -> bool {
        self.0.iter().fold(false, |found, p| found | (p == pin))
    }
}

/// How [`validate`](crate::validate) decides to trust the CA in `cluster-info`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Trust {
    /// The CA must match one of these pins (`--discovery-token-ca-cert-hash`).
    Pinned(PinSet),
    /// `--discovery-token-unsafe-skip-ca-verification`: the CA is whatever the signed
    /// `cluster-info` says. Anyone holding the token can then impersonate the control plane.
    UnsafeSkipCaVerification,
}

impl Trust {
    /// Trust from kubeadm's two flags: pins if any are given (they are enforced even with the
    /// unsafe flag, as in kubeadm), else the unsafe skip if it was asked for, else an error.
    pub fn from_flags<S: AsRef<str>>(
        pins: impl IntoIterator<Item = S>,
        unsafe_skip: bool,
    ) -> Result<Self, Error> {
        match PinSet::parse(pins) {
            Ok(set) => Ok(Self::Pinned(set)),
            Err(Error::NoPins) if unsafe_skip => Ok(Self::UnsafeSkipCaVerification),
            Err(e) => Err(e),
        }
    }
}
