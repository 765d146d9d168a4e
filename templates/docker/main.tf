# A workspace that is a Docker container on the daemon's Docker host: created on the first start, stopped on
# stop, started again on start, removed with its home volume on delete. The home volume keeps the user's files
# across stop/start. Only Terraform's built-in terraform_data and local-exec driving the `docker` CLI are used,
# so nothing is downloaded at init (templates/docker-provider does the same with the kreuzwerker/docker provider).

terraform {
  required_version = ">= 1.5.0"
}

# Set by the provisioner (TF_VAR_workspace_*) on every build; the defaults let `terraform plan` run by hand.
variable "workspace_name" {
  type        = string
  default     = "dev"
  description = "The workspace's name; the container's hostname and a label."

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_.-]*$", var.workspace_name))
    error_message = "The workspace name must be letters, digits, '_', '.' and '-', starting with a letter or digit (it becomes the container's hostname)."
  }
}

variable "workspace_owner" {
  type        = string
  default     = "default"
  description = "The workspace owner's name, recorded as a label."
}

variable "workspace_id" {
  type        = string
  default     = ""
  description = "The workspace's id: names the container and the volume, and labels them."
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
  description = "The build number; every start and stop build acts on the container, whatever state it was left in."
}

variable "image" {
  type        = string
  default     = "provisioning/debian-base:bookworm"
  description = "The container image (scripts/docker-base-image.sh makes the default offline); it needs /bin/sh."
}

variable "docker_host" {
  type        = string
  default     = ""
  description = "The Docker engine, e.g. unix:///var/run/docker.sock or tcp://host:2376; empty for the docker CLI's default (DOCKER_HOST, else the local socket)."
}

variable "network" {
  type        = string
  default     = "host"
  description = "The container's network: host (the default: engines started without a bridge, as scripts/docker-engine.sh does, have no other), bridge, none or a network you created."
}

variable "memory_mb" {
  type        = number
  default     = 0
  description = "Memory limit of the container in MiB; 0 for none."

  validation {
    condition     = var.memory_mb == 0 || var.memory_mb >= 6
    error_message = "memory_mb must be 0 (no limit) or at least 6 MiB (the engine's minimum)."
  }
}

locals {
  # Named after the workspace id, fixed at creation (terraform_data.home ignores later changes): a rename never
  # orphans the container or loses the volume.
  key            = var.workspace_id != "" ? var.workspace_id : "${var.workspace_owner}-${var.workspace_name}"
  container_name = terraform_data.home.output.container
  volume_name    = terraform_data.home.output.volume
  docker_env     = var.docker_host != "" ? { DOCKER_HOST = var.docker_host } : {}
}

# The home volume. Created once, kept across stop/start, removed on delete (after the container, which uses it).
resource "terraform_data" "home" {
  input = {
    container    = "provisioning-ws-${local.key}"
    volume       = "provisioning-ws-${local.key}-home"
    workspace_id = var.workspace_id
    docker_host  = var.docker_host
  }

  lifecycle {
    # The volume holds the user's files: nothing a later build changes may replace it.
    ignore_changes = all
  }

  provisioner "local-exec" {
    interpreter = ["/bin/sh", "-c"]
    command     = "docker volume create --label provisioning.workspace_id=\"$WORKSPACE_ID\" \"$VOLUME\" >/dev/null && echo \"home volume: $VOLUME\""
    environment = merge(local.docker_env, {
      VOLUME       = self.output.volume
      WORKSPACE_ID = self.output.workspace_id
    })
  }

  provisioner "local-exec" {
    when        = destroy
    interpreter = ["/bin/sh", "-c"]
    command     = "docker volume rm -f \"$VOLUME\" >/dev/null && echo \"removed volume $VOLUME\""
    environment = merge(self.output.docker_host != "" ? { DOCKER_HOST = self.output.docker_host } : {}, {
      VOLUME = self.output.volume
    })
  }
}

# The container as Terraform records it, from the first start to delete; destroying it removes the container.
# Replaced (the container removed, then made again by the next start) when its image, network or memory changes.
resource "terraform_data" "container" {
  input = {
    name        = local.container_name
    volume      = local.volume_name
    docker_host = var.docker_host
  }

  triggers_replace = {
    image   = var.image
    network = var.network
    memory  = var.memory_mb
  }

  provisioner "local-exec" {
    when        = destroy
    interpreter = ["/bin/sh", "-c"]
    command     = "docker rm -f \"$CONTAINER\" >/dev/null 2>&1; echo \"removed container $CONTAINER\""
    environment = merge(self.output.docker_host != "" ? { DOCKER_HOST = self.output.docker_host } : {}, {
      CONTAINER = self.output.name
    })
  }
}

# Start: creates the container when it does not exist (first start, or after a change replaced it), then starts it.
# Replaced on every start build (the build number changes), so each start acts on the container.
resource "terraform_data" "running" {
  count      = var.workspace_transition == "start" ? 1 : 0
  depends_on = [terraform_data.container]

  triggers_replace = {
    build = var.workspace_build_number
  }

  provisioner "local-exec" {
    interpreter = ["/bin/sh"]
    command     = "${path.module}/scripts/start.sh"
    environment = merge(local.docker_env, {
      CONTAINER      = local.container_name
      VOLUME         = local.volume_name
      IMAGE          = var.image
      NETWORK        = var.network
      MEMORY_MB      = tostring(var.memory_mb)
      HOSTNAME_      = var.workspace_name
      WORKSPACE_ID   = var.workspace_id
      WORKSPACE_NAME = var.workspace_name
      OWNER          = var.workspace_owner
    })
  }
}

# Stop: stops the container (it and its volume stay). Replaced on every stop build.
resource "terraform_data" "stopped" {
  count      = var.workspace_transition == "stop" ? 1 : 0
  depends_on = [terraform_data.container]

  triggers_replace = {
    build = var.workspace_build_number
  }

  provisioner "local-exec" {
    interpreter = ["/bin/sh", "-c"]
    command     = "if docker container inspect \"$CONTAINER\" >/dev/null 2>&1; then docker stop -t 10 \"$CONTAINER\" >/dev/null && echo \"stopped container $CONTAINER\"; else echo \"no container $CONTAINER to stop\"; fi"
    environment = merge(local.docker_env, {
      CONTAINER = local.container_name
    })
  }
}

output "container" {
  description = "The workspace's container (docker ps -a --filter label=provisioning.workspace_id=<id>)."
  value       = local.container_name
}

output "volume" {
  description = "The home volume, mounted at /home/workspace."
  value       = local.volume_name
}
