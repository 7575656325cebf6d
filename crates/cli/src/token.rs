//! `kubetrust token ...`: kubeadm's bootstrap-token commands, against a live API for all but
//! `generate`.

use std::io::Write;
use std::time::SystemTime;

use clap::{Args, Subcommand};
use kubetrust::bootstrap_token::{
    BootstrapToken, DEFAULT_NODE_TOKEN_GROUP, Expiration, JoinCommand, TokenId, TokenSpec, Usage, api,
};
use kubetrust::discovery::{JoinToken, PinSet};
use kubetrust::pki::CaCertHash;
use kubetrust::pki::expiration::short_human_duration;
use kubetrust::pki::tabwriter::tabwrite;

use crate::api::{KubeconfigArg, block_on};
use crate::{CommandResult, Output};

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Print a new random bootstrap token (`[a-z0-9]{6}.[a-z0-9]{16}`), as `kubeadm token generate`.
    Generate,
    /// Create a bootstrap token on the server and print it (or, with --print-join-command, the
    /// whole `kubeadm join` command), as `kubeadm token create`.
    Create(CreateArgs),
    /// List the bootstrap tokens on the server, as `kubeadm token list`.
    List(ListArgs),
    /// Delete bootstrap tokens (by id or full token) from the server, as `kubeadm token delete`.
    Delete(DeleteArgs),
}

#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    /// The token to create (`[a-z0-9]{6}.[a-z0-9]{16}`) [default: a random one].
    token: Option<String>,
    #[command(flatten)]
    kubeconfig: KubeconfigArg,
    /// The API server URL, instead of the kubeconfig's (also the endpoint of the join command).
    #[arg(long, value_name = "URL")]
    server: Option<String>,
    /// How long the token lives (a Go duration); 0 means it never expires.
    #[arg(long, value_name = "DURATION", default_value = "24h")]
    ttl: String,
    /// What the token may be used for: `signing` (discovery), `authentication` (TLS bootstrap).
    #[arg(
        long,
        value_name = "U,U",
        value_delimiter = ',',
        default_value = "signing,authentication"
    )]
    usages: Vec<String>,
    /// Extra groups the token authenticates as; each must match `system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]`.
    #[arg(long, value_name = "G,G", value_delimiter = ',', default_value = DEFAULT_NODE_TOKEN_GROUP)]
    groups: Vec<String>,
    /// A human-friendly description of what the token is for.
    #[arg(long, value_name = "TEXT", default_value = "")]
    description: String,
    /// Print the whole `kubeadm join` command (endpoint, token, CA pins) instead of the token.
    /// It says `kubeadm join`, byte for byte as kubeadm prints it: `kubetrust join` takes the
    /// same arguments, so the line works with either word.
    #[arg(long)]
    print_join_command: bool,
    /// Print a one-string join token (`kjt1.…`: the token, the CA pins and the endpoint in
    /// one) for `kubetrust join --join-token`, instead of the token.
    #[arg(long, conflicts_with = "print_join_command")]
    print_join_token: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    kubeconfig: KubeconfigArg,
    /// Output format: kubeadm's table, or one JSON `BootstrapToken` object per token as
    /// `kubeadm token list -o json` prints.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Text)]
    output: Output,
}

#[derive(Debug, Args)]
pub(crate) struct DeleteArgs {
    /// Token ids (`[a-z0-9]{6}`) or full tokens.
    #[arg(value_name = "ID|TOKEN", required = true)]
    tokens: Vec<String>,
    #[command(flatten)]
    kubeconfig: KubeconfigArg,
}

impl Command {
    pub(crate) fn run(self) -> CommandResult {
        match self {
            Self::Generate => {
                let token = BootstrapToken::generate()?;
                // Printing the secret is this command's whole purpose.
                let line = format!("{}\n", token.expose_secret().as_str());
                std::io::stdout().lock().write_all(line.as_bytes())?;
                Ok(())
            }
            Self::Create(args) => args.run(),
            Self::List(args) => block_on(args.run()),
            Self::Delete(args) => args.run(),
        }
    }
}

impl CreateArgs {
    fn run(self) -> CommandResult {
        let token = match &self.token {
            Some(text) => text.parse()?,
            None => BootstrapToken::generate()?,
        };
        let usages = self
            .usages
            .iter()
            .map(|u| u.parse::<Usage>())
            .collect::<Result<Vec<_>, _>>()?;
        let spec = TokenSpec::new(token)
            .with_ttl(
                kubetrust::kubeadm_config::parse_duration(&self.ttl)
                    .map_err(|e| format!("--ttl {:?}: {e}", self.ttl))?,
            )
            .with_usages(usages)
            .with_groups(self.groups.into_iter().filter(|g| !g.is_empty()))
            .with_description(self.description);
        spec.validate()?;
        let line = block_on(async {
            let cluster = self.kubeconfig.connect(self.server.as_deref()).await?;
            api::create_token(&cluster.client, &spec, SystemTime::now()).await?;
            if !self.print_join_command && !self.print_join_token {
                return Ok(spec.token.expose_secret());
            }
            let pins = CaCertHash::of_pem_bundle(&cluster.ca_pem)
                .map_err(|e| format!("the kubeconfig's CA gives no pin for the join command: {e}"))?;
            let join = JoinCommand::for_server(&cluster.server, spec.token.clone())
                .with_ca_cert_hashes(pins.iter().map(ToString::to_string));
            if self.print_join_token {
                let pins = PinSet::new(pins)?;
                return Ok(JoinToken::new(spec.token.clone(), pins)
                    .with_endpoint(join.endpoint())?
                    .expose_secret());
            }
            Ok(join.expose_secret())
        })?;
        // The token (or the command holding it) is this command's output, as in kubeadm.
        let mut out = std::io::stdout().lock();
        out.write_all(line.as_bytes())?;
        Ok(out.write_all(b"\n")?)
    }
}

impl ListArgs {
    async fn run(self) -> CommandResult {
        let cluster = self.kubeconfig.connect(None).await?;
        let (tokens, skipped) = api::list_tokens(&cluster.client).await?;
        for secret in &skipped {
            eprintln!(
                "[token] WARNING: skipping Secret {}: {}",
                secret.name, secret.reason
            );
        }
        let now = SystemTime::now();
        let text = match self.output {
            Output::Text => table(&tokens, now),
            Output::Json => tokens
                .iter()
                .map(|token| json(token, now))
                .collect::<Result<String, _>>()?,
        };
        Ok(std::io::stdout().lock().write_all(text.as_bytes())?)
    }
}

/// kubeadm's table: TOKEN TTL EXPIRES USAGES DESCRIPTION EXTRA GROUPS. kubeadm pads TTL,
/// USAGES and DESCRIPTION to 9, 22 and 56 characters, then aligns with a tabwriter (min width
/// 10, padding 3) that it flushes after every token: the header is aligned with the first
/// token, and each later token on its own. No tokens, no output (not even the header).
fn table(tokens: &[TokenSpec], now: SystemTime) -> String {
    let mut text = String::new();
    for (index, token) in tokens.iter().enumerate() {
        let mut chunk = String::new();
        if index == 0 {
            chunk.push_str("TOKEN\tTTL\tEXPIRES\tUSAGES\tDESCRIPTION\tEXTRA GROUPS\n");
        }
        chunk.push_str(&row(token, now));
        text.push_str(&tabwrite(&chunk, 10, 3));
    }
    text
}

/// One row of kubeadm's table, tab-separated (`<forever>`/`<never>` without expiration,
/// `<none>` for empty; EXPIRES in UTC).
fn row(token: &TokenSpec, now: SystemTime) -> String {
    let (ttl, expires) = match token.expiration(now) {
        Expiration::At(at) => {
            let seconds = match at.duration_since(now) {
                Ok(left) => i64::try_from(left.as_secs()).unwrap_or(i64::MAX),
                Err(past) => i64::try_from(past.duration().as_secs()).map_or(i64::MIN, |s| -s),
            };
            let expires = Expiration::At(at).to_rfc3339().unwrap_or_default();
            (short_human_duration(seconds), expires)
        }
        _ => ("<forever>".to_owned(), "<never>".to_owned()),
    };
    let none = |s: String| if s.is_empty() { "<none>".to_owned() } else { s };
    let usages: Vec<&str> = token.usages.iter().map(Usage::as_str).collect();
    format!(
        "{}\t{ttl:<9}\t{expires}\t{:<22}\t{:<56}\t{}\n",
        // Listing the tokens is this command's purpose, as in kubeadm.
        token.token.expose_secret().as_str(),
        none(usages.join(",")),
        none(token.description.clone()),
        none(token.groups.join(",")),
    )
}

/// kubeadm's `output.kubeadm.k8s.io/v1alpha3` `BootstrapToken`, fields in Go's order, empty
/// ones omitted.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct BootstrapTokenOutput<'a> {
    kind: &'static str,
    api_version: &'static str,
    token: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    usages: Vec<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    groups: &'a [String],
}

/// One token as kubeadm's `-o json` prints it: the object indented by four spaces (Go's
/// JSON printer), one object after the other.
fn json(token: &TokenSpec, now: SystemTime) -> Result<String, serde_json::Error> {
    use serde::Serialize as _;
    let secret = token.token.expose_secret();
    let object = BootstrapTokenOutput {
        kind: "BootstrapToken",
        api_version: "output.kubeadm.k8s.io/v1alpha3",
        // Listing the tokens is this command's purpose, as in kubeadm.
        token: secret.as_str(),
        description: &token.description,
        expires: token.expiration(now).to_rfc3339(),
        usages: token.usages.iter().map(Usage::as_str).collect(),
        groups: &token.groups,
    };
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(
        &mut out,
        serde_json::ser::PrettyFormatter::with_indent(b"    "),
    );
    object.serialize(&mut serializer)?;
    out.push(b'\n');
    Ok(String::from_utf8_lossy(&out).into_owned())
}

impl DeleteArgs {
    fn run(self) -> CommandResult {
        let ids = self
            .tokens
            .iter()
            .map(|text| token_id(text))
            .collect::<Result<Vec<_>, _>>()?;
        block_on(async {
            let cluster = self.kubeconfig.connect(None).await?;
            for id in ids {
                if !api::delete_token(&cluster.client, &id).await? {
                    return Err(format!("bootstrap token {:?} not found", id.as_str()).into());
                }
                println!("bootstrap token {:?} deleted", id.as_str());
            }
            Ok(())
        })
    }
}

/// A token id, or the id of a full token; neither is kubeadm's error (which never echoes a
/// possible secret).
fn token_id(text: &str) -> Result<TokenId, String> {
    text.parse::<TokenId>()
        .or_else(|_| text.parse::<BootstrapToken>().map(|t| *t.id()))
        .map_err(|_| {
            format!(
                "a token to delete is neither a token id \"[a-z0-9]{{6}}\" nor a token \"[a-z0-9]{{6}}.[a-z0-9]{{16}}\" (argument {} characters long)",
                text.len()
            )
        })
}
