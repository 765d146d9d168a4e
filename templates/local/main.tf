# A workspace on the machine that runs the provisioner: a home directory and a long-running process
# in it. Only Terraform's built-in terraform_data resource and the local-exec provisioner are used, so
# nothing is downloaded at init. See README.md for what each transition does.

terraform {
  required_version = ">= 1.5.0"
}

# Set by the provisioner (TF_VAR_workspace_*) on every build; the defaults let `terraform plan` run by hand.
variable "workspace_name" {
  type        = string
  default     = "dev"
  description = "The workspace's name; the last part of its directory."

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_. -]*$", var.workspace_name)) && var.workspace_name != "." && var.workspace_name != ".."
    error_message = "The workspace name must be a single path segment: letters, digits, '_', '-', '.' and spaces, not starting with '.', '-' or a space."
  }
}

variable "workspace_owner" {
  type        = string
  default     = "default"
  description = "The workspace owner's name; the directory sits under a folder of this name."

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_. -]*$", var.workspace_owner)) && var.workspace_owner != "." && var.workspace_owner != ".."
    error_message = "The owner name must be a single path segment: letters, digits, '_', '-', '.' and spaces, not starting with '.', '-' or a space."
  }
}

variable "workspace_id" {
  type        = string
  default     = ""
  description = "The workspace's id, recorded in the resources."
}

variable "workspace_transition" {
  type        = string
  default     = "start"
  description = "start, stop or destroy."

  validation {
    condition     = contains(["start", "stop", "destroy"], var.workspace_transition)
    error_message = "The transition must be start, stop or destroy."
  }
}

variable "workspace_build_number" {
  type        = number
  default     = 1
  description = "The build number; every start build checks that the process runs."
}

variable "workspaces_root" {
  type        = string
  default     = "~/.local/share/provisioning/workspaces"
  description = "The folder under which workspace directories are created, as <root>/<owner>/<name>; '~' is the provisioner's home."

  validation {
    # A relative root would resolve inside the build's temporary directory, which is removed after the build.
    condition     = can(regex("^(~/|/)", var.workspaces_root))
    error_message = "workspaces_root must be an absolute path or start with ~/."
  }
}

variable "heartbeat_interval_seconds" {
  type        = number
  default     = 5
  description = "How often the workspace process writes its heartbeat file."

  validation {
    condition     = var.heartbeat_interval_seconds >= 1 && floor(var.heartbeat_interval_seconds) == var.heartbeat_interval_seconds
    error_message = "The heartbeat interval must be a whole number of seconds, at least 1."
  }
}

locals {
  start = var.workspace_transition == "start" ? 1 : 0

  # The directory is fixed when the workspace is created (see terraform_data.home): renaming a
  # workspace or changing the root later must not orphan or delete its files.
  directory   = terraform_data.home.output.directory
  control_dir = "${local.directory}/.provisioning"
  pid_file    = "${local.control_dir}/workspace.pid"
}

# The home directory. Created once, kept across stop/start, removed on delete.
resource "terraform_data" "home" {
  input = {
    directory    = "${pathexpand(var.workspaces_root)}/${var.workspace_owner}/${var.workspace_name}"
    owner        = var.workspace_owner
    name         = var.workspace_name
    workspace_id = var.workspace_id
  }

  lifecycle {
    # The directory holds the user's files: nothing a later build changes may move or replace it.
    ignore_changes = all
  }

  provisioner "local-exec" {
    interpreter = ["/bin/sh", "-c"]
    command     = "set -eu; mkdir -p \"$WORKSPACE_DIR/.provisioning\"; echo \"workspace directory: $WORKSPACE_DIR\""
    environment = {
      WORKSPACE_DIR = self.output.directory
    }
  }

  # Delete: stop a process a failed stop may have left, then remove the directory (and the owner's
  # folder when it is the last workspace in it).
  provisioner "local-exec" {
    when        = destroy
    interpreter = ["/bin/sh"]
    command     = "${path.module}/scripts/remove.sh"
    environment = {
      WORKSPACE_DIR = self.output.directory
    }
  }
}

# Makes sure the workspace process runs. Replaced on every start build (the build number changes), so
# each start checks the process: a live one is kept, a dead one is started again. It does nothing
# on destroy: stopping belongs to terraform_data.process.
resource "terraform_data" "launcher" {
  count = local.start

  triggers_replace = {
    build     = var.workspace_build_number
    directory = local.directory
  }

  provisioner "local-exec" {
    interpreter = ["/bin/sh"]
    command     = "${path.module}/scripts/start.sh"
    environment = {
      WORKSPACE_DIR      = local.directory
      HEARTBEAT_INTERVAL = tostring(var.heartbeat_interval_seconds)
    }
  }
}

# The running process as Terraform records it: its pid and files. Destroyed on stop and delete,
# which stops the process.
resource "terraform_data" "process" {
  count = local.start

  # A new interval needs a new process: replacing this resource stops the old one before the
  # launcher starts the next.
  triggers_replace = {
    directory          = local.directory
    heartbeat_interval = var.heartbeat_interval_seconds
  }

  input = {
    directory      = local.directory
    pid_file       = local.pid_file
    heartbeat_file = "${local.control_dir}/heartbeat"
    log_file       = "${local.control_dir}/workspace.log"
    # The launcher is replaced on every start, so its id is unknown while planning and this is read
    # during apply, after the launcher wrote the pid file.
    pid = terraform_data.launcher[0].id == "" ? "" : try(trimspace(file(local.pid_file)), "")
  }

  provisioner "local-exec" {
    when        = destroy
    interpreter = ["/bin/sh"]
    command     = "${path.module}/scripts/stop.sh"
    environment = {
      WORKSPACE_DIR = self.output.directory
    }
  }
}

# Stop checks the process itself, on top of terraform_data.process's destroy: a build canceled before
# Terraform recorded the process leaves one the state does not know about, and a stop must end it too.
resource "terraform_data" "stopper" {
  count      = var.workspace_transition == "stop" ? 1 : 0
  depends_on = [terraform_data.process]

  triggers_replace = {
    build     = var.workspace_build_number
    directory = local.directory
  }

  provisioner "local-exec" {
    interpreter = ["/bin/sh"]
    command     = "${path.module}/scripts/stop.sh"
    environment = {
      WORKSPACE_DIR = local.directory
    }
  }
}

output "directory" {
  description = "The workspace's home directory."
  value       = local.directory
}

output "pid" {
  description = "The pid of the workspace process, or \"\" while stopped."
  value       = try(terraform_data.process[0].output.pid, "")
}
