//! `kubectl config view`: minify, flatten, redact, defaults applied, YAML or JSON.

use base64::Engine as _;

use crate::{Config, Error, Preferences, SecretBytes, SecretString};

/// Shown instead of certificate and key data without `--raw` or `--flatten`.
const DATA_OMITTED: &str = "DATA+OMITTED";
/// Shown instead of tokens and passwords without `--raw` or `--flatten`.
const REDACTED: &str = "REDACTED";

/// Output format of [`view`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OutputFormat {
    /// YAML, keys sorted (kubectl's default).
    #[default]
    Yaml,
    /// JSON, four-space indentation, client-go's field order.
    Json,
}

/// What [`view`] shows; the fields mirror `kubectl config view`'s flags.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ViewOptions {
    /// `--minify`: only the current (or `context`) context, its cluster and user.
    pub minify: bool,
    /// `--flatten`: embed referenced certificate and key files.
    pub flatten: bool,
    /// `--raw`: show certificate data, keys, tokens and passwords (`flatten` shows them too).
    pub raw: bool,
    /// `--context`: the context `minify` keeps (ignored without `minify`, or when empty).
    pub context: Option<String>,
    /// `-o`.
    pub format: OutputFormat,
}

impl ViewOptions {
    /// Sets `minify`.
    pub fn with_minify(mut self, minify: bool) -> Self {
        self.minify = minify;
        self
    }

    /// Sets `flatten`.
    pub fn with_flatten(mut self, flatten: bool) -> Self {
        self.flatten = flatten;
        self
    }

    /// Sets `raw`.
    pub fn with_raw(mut self, raw: bool) -> Self {
        self.raw = raw;
        self
    }

    /// Sets the context for `minify`.
    pub fn with_context(mut self, context: Option<String>) -> Self {
        self.context = context;
        self
    }

    /// Sets the output format.
    pub fn with_format(mut self, format: OutputFormat) -> Self {
        self.format = format;
        self
    }
}

/// Renders `config` as `kubectl config view` does with the same flags. The rules come from
/// kubectl's `config view` command and client-go's `MinifyConfig`, `FlattenConfig` and
/// `ShortenConfig` (`tools/clientcmd/api/helpers.go`), in this order:
///
/// 1. `minify` keeps one context, its cluster and its user ([`Config::minify`]): the context
///    is `context` when set and not empty, else `current-context`. It fails when no context
///    is named ([`Error::NoCurrentContext`]) or when the context, or a cluster or user it
///    names, does not exist ([`Error::UnknownContext`], [`Error::UnknownCluster`],
///    [`Error::UnknownUser`]). Without `minify`, `context` is ignored and a `current-context`
///    naming nothing is shown as it is.
/// 2. `flatten` embeds the certificate and key files of every user and cluster left
///    ([`Config::flatten`]): it fails on a file it cannot read ([`Error::ReferencedFile`],
///    [`Error::ReferencedDirectory`]) and on a path set next to data
///    ([`Error::PathAndData`]). `tokenFile` stays a path.
/// 3. Only when neither `flatten` nor `raw` is set are secrets hidden: certificate and key
///    data show as `DATA+OMITTED`, `token` and `password` as `REDACTED`. `flatten` alone
///    shows everything, since its point is a self-contained file.
/// 4. Named lists are sorted by name and client-go's defaults filled in; YAML has its keys
///    sorted, JSON client-go's field order and four-space indentation.
///
/// The one difference from kubectl: fields it does not know are kept (kubectl drops them).
/// Nothing else is checked (no PEM parsing, no dangling references without `minify`),
/// because kubectl checks nothing else.
///
/// ```
/// use kubetrust_kubeconfig::{view, Config, ViewOptions};
/// let config = Config::from_bytes(b"users: [{name: u, user: {token: s3cret}}]").unwrap();
/// let shown = view(&config, &ViewOptions::default()).unwrap();
/// assert!(shown.contains("token: REDACTED") && !shown.contains("s3cret"));
/// let flat = view(&config, &ViewOptions::default().with_flatten(true)).unwrap();
/// assert!(flat.contains("token: s3cret"));
/// ```
pub fn view(config: &Config, options: &ViewOptions) -> Result<String, Error> {
    let mut shown = if options.minify {
        config.minify(options.context.as_deref())?
    } else {
        config.clone()
    };
    if options.flatten {
        shown.flatten()?;
    }
    apply_kubectl_defaults(&mut shown);
    let redacted = !options.flatten && !options.raw;
    if redacted {
        redact(&mut shown);
    }
    let text = match options.format {
        OutputFormat::Yaml => shown.to_yaml()?,
        OutputFormat::Json => shown.to_json()?,
    };
    Ok(if !redacted {
        text
    } else {
        // The data fields were replaced by these bytes; show them as text, as kubectl does.
        let encoded = base64::engine::general_purpose::STANDARD.encode(DATA_OMITTED);
        text.replace(&encoded, DATA_OMITTED)
    })
}

/// What client-go does to a file it loads and writes again: named lists sorted by name (they
/// are maps inside client-go), empty preferences filled in, and the exec plugin's
/// `interactiveMode` defaulted for the API versions that predate the field.
fn apply_kubectl_defaults(config: &mut Config) {
    let preferences = config.preferences.get_or_insert_with(Preferences::default);
    sort_by_name(&mut preferences.extensions, |e| &e.name);
    sort_by_name(&mut config.extensions, |e| &e.name);
    sort_by_name(&mut config.clusters, |c| &c.name);
    sort_by_name(&mut config.users, |u| &u.name);
    sort_by_name(&mut config.contexts, |c| &c.name);
    for named in &mut config.clusters {
        sort_by_name(&mut named.cluster.extensions, |e| &e.name);
    }
    for named in &mut config.contexts {
        sort_by_name(&mut named.context.extensions, |e| &e.name);
    }
    for named in &mut config.users {
        sort_by_name(&mut named.user.extensions, |e| &e.name);
        if let Some(exec) = named.user.exec.as_mut() {
            let legacy = matches!(
                exec.api_version.as_str(),
                "client.authentication.k8s.io/v1alpha1" | "client.authentication.k8s.io/v1beta1"
            );
            if legacy && exec.interactive_mode.is_empty() {
                exec.interactive_mode = "IfAvailable".to_owned();
            }
        }
    }
}

fn sort_by_name<T>(items: &mut [T], name: impl Fn(&T) -> &String) {
    items.sort_by(|a, b| name(a).cmp(name(b)));
}

fn redact(config: &mut Config) {
    for named in &mut config.clusters {
        if !named.cluster.certificate_authority_data.is_empty() {
            named.cluster.certificate_authority_data = DATA_OMITTED.into();
        }
    }
    for named in &mut config.users {
        let user = &mut named.user;
        if !user.client_certificate_data.is_empty() {
            user.client_certificate_data = DATA_OMITTED.into();
        }
        if !user.client_key_data.is_empty() {
            user.client_key_data = SecretBytes::new(DATA_OMITTED);
        }
        if !user.token.is_empty() {
            user.token = SecretString::new(REDACTED);
        }
        if !user.password.is_empty() {
            user.password = SecretString::new(REDACTED);
        }
    }
}
