# A workspace in a Docker container on the daemon's Docker host, with a Coder-style agent. The home
# directory lives in a Docker volume that survives stop/start; the container exists only while the
# workspace is started. Needs the coder and kreuzwerker/docker providers (see README.md).

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    coder = {
      source  = "coder/coder"
      version = ">= 2.0.0"
    }
    docker = {
      source  = "kreuzwerker/docker"
      version = ">= 3.0.0"
    }
  }
}

variable "docker_host" {
  type        = string
  default     = ""
  description = "Docker daemon to use, e.g. unix:///var/run/docker.sock or tcp://host:2376; empty for the provider's default (DOCKER_HOST, else the local socket)."
}

variable "image" {
  type        = string
  default     = "codercom/enterprise-base:ubuntu"
  description = "The container image; it must have a shell, curl or wget, and a user named by container_user."
}

variable "container_user" {
  type        = string
  default     = "coder"
  description = "The user the agent runs as inside the container; its home is the persistent volume."
}

variable "memory_mb" {
  type        = number
  default     = 0
  description = "Memory limit of the container in MiB; 0 for no limit."

  validation {
    condition     = var.memory_mb >= 0
    error_message = "memory_mb must be 0 (no limit) or a positive number of MiB."
  }
}

provider "docker" {
  # null lets the provider fall back to DOCKER_HOST and its defaults.
  host = var.docker_host != "" ? var.docker_host : null
}

data "coder_provisioner" "me" {}
data "coder_workspace" "me" {}
data "coder_workspace_owner" "me" {}

locals {
  # Container names allow [a-zA-Z0-9_.-]; workspace names are lower-cased to keep them predictable.
  container_name = "ws-${data.coder_workspace_owner.me.name}-${lower(data.coder_workspace.me.name)}"
  home           = "/home/${var.container_user}"
  started        = data.coder_workspace.me.transition == "start" ? 1 : 0
}

resource "coder_agent" "main" {
  arch = data.coder_provisioner.me.arch
  os   = "linux"
  dir  = local.home

  startup_script = <<-EOT
    set -e
    # The volume starts empty: give the user the image's default dotfiles once.
    if [ ! -f ~/.init_done ]; then
      cp -rT /etc/skel ~ 2>/dev/null || true
      touch ~/.init_done
    fi
  EOT

  env = {
    GIT_AUTHOR_NAME     = coalesce(data.coder_workspace_owner.me.full_name, data.coder_workspace_owner.me.name)
    GIT_AUTHOR_EMAIL    = data.coder_workspace_owner.me.email
    GIT_COMMITTER_NAME  = coalesce(data.coder_workspace_owner.me.full_name, data.coder_workspace_owner.me.name)
    GIT_COMMITTER_EMAIL = data.coder_workspace_owner.me.email
  }

  metadata {
    display_name = "Home disk"
    key          = "home_disk"
    script       = "df -h ${local.home} | awk 'NR==2 { print $3 \"/\" $2 }'"
    interval     = 60
    timeout      = 5
  }

  metadata {
    display_name = "Load average"
    key          = "load"
    script       = "cut -d' ' -f1 /proc/loadavg"
    interval     = 15
    timeout      = 1
  }
}

# The user's files. Created with the workspace, kept across stop/start, removed on delete.
resource "docker_volume" "home" {
  name = "ws-${data.coder_workspace.me.id}-home"

  lifecycle {
    # A later change of labels or name (a renamed workspace) must not replace the volume and lose the files.
    ignore_changes = all
  }

  labels {
    label = "provisioning.workspace_id"
    value = data.coder_workspace.me.id
  }
  labels {
    label = "provisioning.owner"
    value = data.coder_workspace_owner.me.name
  }
  labels {
    label = "provisioning.workspace_name_at_creation"
    value = data.coder_workspace.me.name
  }
}

# The running workspace: exists only while started, so stop removes the container (the volume stays).
resource "docker_container" "workspace" {
  count    = local.started
  image    = var.image
  name     = local.container_name
  hostname = data.coder_workspace.me.name
  user     = var.container_user
  memory   = var.memory_mb > 0 ? var.memory_mb : null

  # The agent's init script fetches the agent from the coordinator; a coordinator reached as
  # localhost on the host is host.docker.internal from inside the container.
  entrypoint = ["sh", "-c", replace(coder_agent.main.init_script, "/localhost|127\\.0\\.0\\.1/", "host.docker.internal")]
  env        = ["CODER_AGENT_TOKEN=${coder_agent.main.token}"]

  host {
    host = "host.docker.internal"
    ip   = "host-gateway"
  }

  volumes {
    container_path = local.home
    volume_name    = docker_volume.home.name
    read_only      = false
  }

  labels {
    label = "provisioning.workspace_id"
    value = data.coder_workspace.me.id
  }
  labels {
    label = "provisioning.owner"
    value = data.coder_workspace_owner.me.name
  }
  labels {
    label = "provisioning.workspace_name"
    value = data.coder_workspace.me.name
  }
}

# What the dashboard shows next to each resource.
resource "coder_metadata" "container" {
  count       = local.started
  resource_id = docker_container.workspace[0].id

  item {
    key   = "image"
    value = var.image
  }
  item {
    key   = "memory limit"
    value = var.memory_mb > 0 ? "${var.memory_mb} MiB" : "none"
  }
}

resource "coder_metadata" "home" {
  resource_id = docker_volume.home.id

  item {
    key   = "volume"
    value = docker_volume.home.name
  }
  item {
    key   = "mounted at"
    value = local.home
  }
}
