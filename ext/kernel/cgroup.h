// Who a process belongs to, from its cgroup v2 path: the container and the
// systemd unit. Pure functions of text, so they run on recorded paths.
// Part of the kernel layer.
#pragma once

#include <optional>
#include <string_view>

namespace netsql::kernel {

// The path of the "0::" line of /proc/PID/cgroup (the unified hierarchy),
// relative to the reader's cgroup namespace; nullopt when there is none
// (a v1-only system).
std::optional<std::string_view> cgroup_v2_path(std::string_view proc_pid_cgroup);

// The container a cgroup path belongs to, recognised from how the runtimes
// name their cgroups (the innermost one wins when containers nest):
//   docker      .../docker-<64 hex>.scope (systemd driver), /docker/<64 hex> (cgroupfs)
//   containerd  .../cri-containerd-<64 hex>.scope, /kubepods/.../pod<uid>/<64 hex>
//   CRI-O       .../crio-<64 hex>.scope, /kubepods/.../crio-<64 hex>
//   podman      .../libpod-<64 hex>.scope, /libpod_parent/libpod-<64 hex>
//   LXC         /lxc/<name>, /lxc.payload.<name> (the name is the id)
// The runtimes' monitors (crio-conmon-, libpod-conmon-, lxc.monitor.) are
// not containers. nullopt for anything else, including "/" as seen from
// inside a container's own cgroup namespace.
std::optional<std::string_view> container_id(std::string_view cgroup_path);

// The systemd unit of a cgroup path, as `ps -o unit` shows it: the first
// component from the root named *.service or *.scope ("ssh.service",
// "session-3.scope", "user@1000.service", "docker-<id>.scope"); nullopt
// when there is none (slices only, or no systemd).
std::optional<std::string_view> systemd_unit(std::string_view cgroup_path);

}  // namespace netsql::kernel
