//! `sam open <workspace> <path[:line[:col]]>`: a workspace's file in your editor, at the line —
//! the same call as a click on a path in the chat.

use std::io::Write as _;

use clap::Args;
use sam_editor::{EditorChoice, Environment};
use sam_workspace::{OpenHow, parse_location};

use crate::output::{CliError, print_json};
use crate::workspace::{open_workspaces, workspace_error};

#[derive(Debug, Args)]
pub struct OpenArgs {
    /// The workspace (name or id).
    pub workspace: String,
    /// The file, relative to the checkout (or absolute inside it), optionally with a line and
    /// column: `src/a.rs:42:7`, `src/a.rs#L42`.
    pub location: String,
    /// Open in this editor this once (an id such as `vscode`, `zed`, `idea`, `nvim`), instead
    /// of the one chosen in the app's settings.
    #[arg(long)]
    pub editor: Option<String>,
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: OpenArgs) -> Result<(), CliError> {
    let (workspaces, _vault) = open_workspaces()?;
    let choice = match args.editor {
        Some(id) => EditorChoice::Editor { id },
        None => workspaces.editor_choice().map_err(workspace_error)?,
    };
    let (path, line, column) = parse_location(&args.location);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::internal(e.to_string()))?;
    let opened = runtime
        .block_on(workspaces.open_file(
            &args.workspace,
            &path,
            line,
            column,
            Environment::from_process(),
            choice,
        ))
        .map_err(workspace_error)?;
    if args.json {
        return print_json(&opened);
    }
    let mut out = std::io::stdout().lock();
    let mut text = opened.message;
    if opened.how == OpenHow::QuickView {
        text.push_str("\nSet $VISUAL or $EDITOR, or pass --editor, to open it from here.");
    }
    writeln!(out, "{text}").map_err(|e| CliError::internal(e.to_string()))
}
