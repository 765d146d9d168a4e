# The fault suite's template: four terraform_data resources applied one after another (a chain of
# depends_on), each of which leaves a marker file on disk while it exists. Nothing is downloaded at init.
#
#   <markers_root>/<workspace>/markers/<resource>   exists while the resource exists (created by its
#                                                   create-time local-exec, removed by its destroy-time one)
#   <markers_root>/<workspace>/runs.log             one line per provisioner run: begin/end, build, job dir
#   <markers_root>/<workspace>/violations/*         written when a provisioner could not take the
#                                                   workspace's lock: two applies of one workspace at once
#
# `home` and `volume` persist across stop (as a Coder template's home volume does); `compute` and
# `agent` exist only while the workspace is started. `compute` sleeps, so that faults land mid-apply.
# See tests/Provisioning.FaultInjection/README.md.

terraform {
  required_version = ">= 1.5.0"
}

variable "workspace_name" {
  type        = string
  default     = "dev"
  description = "Set by the provisioner (TF_VAR_workspace_name)."
}

variable "workspace_transition" {
  type        = string
  default     = "start"
  description = "Set by the provisioner: start, stop or destroy."
}

variable "markers_root" {
  type        = string
  description = "Absolute folder under which each workspace gets its marker directory."
}

variable "sleep_seconds" {
  type        = number
  default     = 3
  description = "How long `compute` takes to create (and a third of it to destroy)."
}

locals {
  started = var.workspace_transition == "start" ? 1 : 0
  dir     = "${var.markers_root}/${var.workspace_name}"
}

resource "terraform_data" "home" {
  input = { dir = local.dir, name = "home", sleep = 0 }

  provisioner "local-exec" {
    command     = file("${path.module}/marker.sh")
    interpreter = ["/bin/sh", "-c"]
    environment = { MARKER_ACTION = "create", MARKER_DIR = self.input.dir, MARKER_NAME = self.input.name, MARKER_SLEEP = self.input.sleep }
  }

  provisioner "local-exec" {
    when        = destroy
    command     = file("${path.module}/marker.sh")
    interpreter = ["/bin/sh", "-c"]
    environment = { MARKER_ACTION = "destroy", MARKER_DIR = self.input.dir, MARKER_NAME = self.input.name, MARKER_SLEEP = self.input.sleep }
  }
}

resource "terraform_data" "volume" {
  input      = { dir = local.dir, name = "volume", sleep = 0 }
  depends_on = [terraform_data.home]

  provisioner "local-exec" {
    command     = file("${path.module}/marker.sh")
    interpreter = ["/bin/sh", "-c"]
    environment = { MARKER_ACTION = "create", MARKER_DIR = self.input.dir, MARKER_NAME = self.input.name, MARKER_SLEEP = self.input.sleep }
  }

  provisioner "local-exec" {
    when        = destroy
    command     = file("${path.module}/marker.sh")
    interpreter = ["/bin/sh", "-c"]
    environment = { MARKER_ACTION = "destroy", MARKER_DIR = self.input.dir, MARKER_NAME = self.input.name, MARKER_SLEEP = self.input.sleep }
  }
}

resource "terraform_data" "compute" {
  count      = local.started
  input      = { dir = local.dir, name = "compute", sleep = var.sleep_seconds }
  depends_on = [terraform_data.volume]

  provisioner "local-exec" {
    command     = file("${path.module}/marker.sh")
    interpreter = ["/bin/sh", "-c"]
    environment = { MARKER_ACTION = "create", MARKER_DIR = self.input.dir, MARKER_NAME = self.input.name, MARKER_SLEEP = self.input.sleep }
  }

  provisioner "local-exec" {
    when        = destroy
    command     = file("${path.module}/marker.sh")
    interpreter = ["/bin/sh", "-c"]
    environment = { MARKER_ACTION = "destroy", MARKER_DIR = self.input.dir, MARKER_NAME = self.input.name, MARKER_SLEEP = self.input.sleep }
  }
}

resource "terraform_data" "agent" {
  count      = local.started
  input      = { dir = local.dir, name = "agent", sleep = 0 }
  depends_on = [terraform_data.compute]

  provisioner "local-exec" {
    command     = file("${path.module}/marker.sh")
    interpreter = ["/bin/sh", "-c"]
    environment = { MARKER_ACTION = "create", MARKER_DIR = self.input.dir, MARKER_NAME = self.input.name, MARKER_SLEEP = self.input.sleep }
  }

  provisioner "local-exec" {
    when        = destroy
    command     = file("${path.module}/marker.sh")
    interpreter = ["/bin/sh", "-c"]
    environment = { MARKER_ACTION = "destroy", MARKER_DIR = self.input.dir, MARKER_NAME = self.input.name, MARKER_SLEEP = self.input.sleep }
  }
}
