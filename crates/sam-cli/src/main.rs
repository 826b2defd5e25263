//! `sam`: SAM Desktop without the window. The same crates as the app, no webview.
//!
//! Every subcommand takes `--json` and then prints exactly one JSON document on stdout: the
//! result, or `{"error": {"code", "message"}}` with a non-zero exit status.

mod changes;
mod chat;
mod cloud;
mod credentials;
mod open;
mod output;
mod voice;
mod workspace;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::output::print_json;

#[derive(Debug, Parser)]
#[command(
    name = "sam",
    version,
    about = "SAM Desktop from the command line",
    propagate_version = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check that this machine has what SAM Desktop needs, with a fix for each problem.
    Doctor {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Cloud, agent and GitHub credentials, kept in the OS keyring.
    #[command(subcommand)]
    Credentials(credentials::CredentialsCommand),
    /// Hetzner and Scaleway: locations, sizes with live prices, this install's servers.
    #[command(subcommand)]
    Cloud(cloud::CloudCommand),
    /// Workspaces: a folder on this computer (the default) or a cloud VM.
    #[command(subcommand)]
    Workspace(workspace::WorkspaceCommand),
    /// Chat with coding agents in a workspace: send, read, approve, cancel, search.
    #[command(subcommand)]
    Chat(chat::ChatCommand),
    /// Voice input: microphones, recording, transcription, on-device models.
    #[command(subcommand)]
    Voice(voice::VoiceCommand),
    /// Open a workspace's file in your editor at a line: `sam open api src/a.rs:42`.
    Open(open::OpenArgs),
    /// What the agent changed in a workspace: files, insertions, deletions (`--json`: all).
    Changes(changes::ChangesArgs),
    /// Commit a workspace's changes on a sam/ branch, push it, and open a pull request (--pr).
    Ship(changes::ShipArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Doctor { json } => doctor(json),
        Command::Credentials(command) => {
            let json = command.json();
            finish(json, credentials::run(command))
        }
        Command::Workspace(command) => {
            let json = command.json();
            finish(json, workspace::run(command))
        }
        Command::Chat(command) => {
            let json = command.json();
            finish(json, chat::run(command))
        }
        Command::Voice(command) => {
            let json = command.json();
            finish(json, voice::run(command))
        }
        Command::Open(args) => {
            let json = args.json;
            finish(json, open::run(args))
        }
        Command::Changes(args) => {
            let json = args.json;
            finish(json, changes::run_changes(args))
        }
        Command::Ship(args) => {
            let json = args.json;
            finish(json, changes::run_ship(args))
        }
        Command::Cloud(command) => {
            let json = command.json();
            finish(json, cloud::run(command))
        }
    }
}

/// An error a subcommand reports itself (as JSON with `--json`).
trait Report {
    fn report_to_user(&self, json: bool);
}

impl Report for output::CliError {
    fn report_to_user(&self, json: bool) {
        self.report(json);
    }
}

impl Report for cloud::Failure {
    fn report_to_user(&self, json: bool) {
        self.report(json);
    }
}

impl Report for voice::VoiceCliError {
    fn report_to_user(&self, json: bool) {
        self.report(json);
    }
}

/// The exit status of a subcommand, after reporting its error.
fn finish(json: bool, result: Result<(), impl Report>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            error.report_to_user(json);
            ExitCode::from(1)
        }
    }
}

fn doctor(json: bool) -> ExitCode {
    let report = sam_doctor::run_checks(&sam_doctor::LiveSystem);
    let status = if report.healthy() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    let written = if json {
        print_json(&report).map_err(|e| std::io::Error::other(e.0.message))
    } else {
        print_report(&report)
    };
    match written {
        Ok(()) => status,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "sam: {e}");
            ExitCode::from(1)
        }
    }
}

fn print_report(report: &sam_doctor::DoctorReport) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    for check in &report.checks {
        let mark = match check.status {
            sam_doctor::CheckStatus::Ok => "ok  ",
            sam_doctor::CheckStatus::Warning => "warn",
            sam_doctor::CheckStatus::Error => "FAIL",
        };
        writeln!(out, "[{mark}] {}: {}", check.label, check.detail)?;
        if let Some(fix) = &check.fix {
            writeln!(out, "       Fix: {fix}")?;
        }
    }
    let problems = report
        .checks
        .iter()
        .filter(|c| c.status == sam_doctor::CheckStatus::Error)
        .count();
    if problems == 0 {
        writeln!(out, "\nSAM Desktop can run on this machine.")?;
    } else {
        writeln!(
            out,
            "\n{problems} problem(s) stop SAM Desktop from working; see the fixes above."
        )?;
    }
    Ok(())
}
