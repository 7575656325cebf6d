/// A Unix permission mode for files and directories kubetrust creates.
///
/// The constants are kubeadm's choices (spec `pki-kubeconfig.md` §1.9): the mode is applied
/// exactly, regardless of the process umask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mode(u32);

impl Mode {
    /// `0600`: private keys, kubeconfigs with credentials, CSRs, `sa.pub`.
    pub const PRIVATE: Self = Self(0o600);
    /// `0644`: certificates.
    pub const PUBLIC: Self = Self(0o644);
    /// `0700`: directories holding keys.
    pub const PRIVATE_DIR: Self = Self(0o700);
    /// `0755`: ordinary directories such as `/etc/kubernetes/pki`.
    pub const PUBLIC_DIR: Self = Self(0o755);

    /// A mode from its permission bits; anything above `0o7777` is dropped.
    pub const fn from_bits(bits: u32) -> Self {
        Self(bits & 0o7777)
    }

    /// The permission bits.
    pub const fn bits(self) -> u32 {
        self.0
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04o}", self.0)
    }
}
