//! `kubetrust token ...`

use std::io::Write;

use clap::Subcommand;
use kubetrust::bootstrap_token::BootstrapToken;

use crate::CommandResult;

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Print a new random bootstrap token (`[a-z0-9]{6}.[a-z0-9]{16}`), as `kubeadm token generate`.
    Generate,
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
        }
    }
}
