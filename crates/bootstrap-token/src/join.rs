//! kubeadm's join command line (`kubeadm token create --print-join-command`, and the form
//! `kubeadm init` prints).

use std::fmt;

use zeroize::Zeroizing;

use crate::BootstrapToken;

/// What kubeadm prints instead of a secret it was told not to show.
pub const WITHHELD: &str = "<value withheld>";

/// A `kubeadm join` command for a control-plane endpoint, a token and the CA pins.
///
/// The rendered text matches kubeadm byte for byte, **including the trailing space** after the
/// last `--discovery-token-ca-cert-hash` value of a worker command: kubeadm's template puts a
/// space after each pin and `token create` only strips the `\`-newlines and tabs, so its output
/// ends in `" \n"`. Keeping it means scripts and tests that compare against kubeadm's output
/// see identical bytes, and a shell ignores it. The returned strings have no final newline.
/// (kubeadm renders with Go's `html/template`, which would escape `&<>"'+`; none of them occurs
/// in an endpoint, token, pin or key, so values are written as given.)
///
/// The command contains the token (and the certificate key, if any), so it has no `Display`:
/// use [`JoinCommand::expose_secret`], or [`JoinCommand::withheld`] for logs.
///
/// ```
/// use kubetrust_bootstrap_token::JoinCommand;
/// let cmd = JoinCommand::for_server("https://10.0.0.10:6443", "7h3k9q.x2m5p8r1t4w7z0c3".parse()?)
///     .with_ca_cert_hash("sha256:820bf43893ad3f35e9ce07bb1ae51c8872fe92e3319b530e67ceabb6ed10ca3e");
/// assert_eq!(
///     &*cmd.expose_secret(),
///     "kubeadm join 10.0.0.10:6443 --token 7h3k9q.x2m5p8r1t4w7z0c3 \
///      --discovery-token-ca-cert-hash \
///      sha256:820bf43893ad3f35e9ce07bb1ae51c8872fe92e3319b530e67ceabb6ed10ca3e "
/// );
/// assert!(cmd.withheld().contains("--token <value withheld> "));
/// # Ok::<(), kubetrust_bootstrap_token::Error>(())
/// ```
#[derive(Clone)]
pub struct JoinCommand {
    endpoint: String,
    token: BootstrapToken,
    ca_cert_hashes: Vec<String>,
    control_plane: bool,
    certificate_key: Option<Zeroizing<String>>,
}

impl JoinCommand {
    /// A worker join command for `endpoint` (`host:port`, as printed after `kubeadm join`).
    pub fn new(endpoint: impl Into<String>, token: BootstrapToken) -> Self {
        Self {
            endpoint: endpoint.into(),
            token,
            ca_cert_hashes: Vec::new(),
            control_plane: false,
            certificate_key: None,
        }
    }

    /// A worker join command for a kubeconfig `server` URL; the endpoint is the URL with every
    /// `https://` removed, as kubeadm does.
    pub fn for_server(server: &str, token: BootstrapToken) -> Self {
        Self::new(server.replace("https://", ""), token)
    }

    /// The endpoint, `host:port` (the first argument after `kubeadm join`).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Adds a CA pin (`sha256:<hex>`); kubeadm adds one per certificate in the CA bundle, in
    /// bundle order.
    #[must_use]
    pub fn with_ca_cert_hash(mut self, hash: impl Into<String>) -> Self {
        self.ca_cert_hashes.push(hash.into());
        self
    }

    /// Adds several CA pins, in order.
    #[must_use]
    pub fn with_ca_cert_hashes<S: Into<String>>(mut self, hashes: impl IntoIterator<Item = S>) -> Self {
        self.ca_cert_hashes.extend(hashes.into_iter().map(Into::into));
        self
    }

    /// Makes it a control-plane join (`--control-plane`).
    #[must_use]
    pub fn with_control_plane(mut self) -> Self {
        self.control_plane = true;
        self
    }

    /// Makes it a control-plane join with `--certificate-key <key>` (the key that decrypts the
    /// uploaded certificates; secret).
    #[must_use]
    pub fn with_certificate_key(mut self, key: impl Into<String>) -> Self {
        self.control_plane = true;
        self.certificate_key = Some(Zeroizing::new(key.into()));
        self
    }

    /// The one-line command exactly as `kubeadm token create --print-join-command` prints it
    /// (without the final newline). It contains the token: never log it.
    pub fn expose_secret(&self) -> Zeroizing<String> {
        self.render(false, true)
    }

    /// The one-line command with the token and certificate key replaced by
    /// `<value withheld>`; safe to log.
    pub fn withheld(&self) -> String {
        self.render(false, false).to_string()
    }

    /// The multi-line form `kubeadm init` prints (`\` + newline + tab between the parts). It
    /// contains the token: never log it.
    pub fn expose_secret_multiline(&self) -> Zeroizing<String> {
        self.render(true, true)
    }

    /// The multi-line form with secrets replaced by `<value withheld>`.
    pub fn withheld_multiline(&self) -> String {
        self.render(true, false).to_string()
    }

    /// Renders kubeadm's template:
    /// `kubeadm join {{host:port}} --token {{token}} \⏎⇥{{range pins}}--discovery-token-ca-cert-hash {{pin}} {{end}}{{if cp}}\⏎⇥--control-plane {{if key}}--certificate-key {{key}}{{end}}{{end}}`;
    /// the one-line form drops each `\⏎⇥`.
    fn render(&self, multiline: bool, reveal: bool) -> Zeroizing<String> {
        let break_ = if multiline { "\\\n\t" } else { "" };
        let mut out = Zeroizing::new(String::with_capacity(
            64 + self.endpoint.len() + 80 * self.ca_cert_hashes.len(),
        ));
        out.push_str("kubeadm join ");
        out.push_str(&self.endpoint);
        out.push_str(" --token ");
        if reveal {
            out.push_str(&self.token.expose_secret());
        } else {
            out.push_str(WITHHELD);
        }
        out.push(' ');
        out.push_str(break_);
        for hash in &self.ca_cert_hashes {
            out.push_str("--discovery-token-ca-cert-hash ");
            out.push_str(hash);
            out.push(' ');
        }
        if self.control_plane {
            out.push_str(break_);
            out.push_str("--control-plane ");
            if let Some(key) = &self.certificate_key {
                out.push_str("--certificate-key ");
                out.push_str(if reveal { key.as_str() } else { WITHHELD });
            }
        }
        out
    }
}

impl fmt::Debug for JoinCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinCommand")
            .field("endpoint", &self.endpoint)
            .field("token", &self.token)
            .field("ca_cert_hashes", &self.ca_cert_hashes)
            .field("control_plane", &self.control_plane)
            .field(
                "certificate_key",
                &self.certificate_key.as_ref().map(|_| format_args!("[redacted]")),
            )
            .finish()
    }
}
