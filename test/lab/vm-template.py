#!/usr/bin/python3
"""Write the template of a lab VM's disk (vm-disk.sh turns it into the ext4 image).

    vm-template.py DIR      (the rest comes from the environment: see vm-disk.sh)

DIR/u is the upper layer of the VM's root overlay, DIR/w overlayfs's work dir. The lower layer is
the machine's / (read-only 9p), so the upper layer holds only what makes that a separate Debian
host that boots quickly under TCG:
  * its identity: machine-id, hostname, hosts, ssh host key, root's authorized_keys;
  * empty (opaque) /root, /tmp, /var/tmp, /var/log (with a persistent journal);
  * systemd tuned: default.target, masked units and generators that only cost boot time here,
    the machine's enabled ldirectord/keepalived hidden (not masked: `systemctl enable` works);
  * the lab's own units: lab-net (NICs by MAC, addresses), and on real servers lab-httpd and
    lab-udp-name;
  * whiteouts (a character device 0/0) for what must not show through from the machine.
The measurements behind each choice: /work/shared/lab-notes.md ("Booting lab VMs with systemd").
"""
import grp
import os
import sys
import uuid

E = os.environ
NAME, ADDR, MAC = E["NAME"], E["ADDR"], E["MAC_SUFFIX"]
# a director's address on the back network (br1, its eth1), empty on other VMs
BACK = f'{E["BACK_ADDR"]}/{E["BACK_PREFIX"]}' if E.get("BACK_ADDR") else ""
U = os.path.join(sys.argv[1], "u")
os.makedirs(os.path.join(sys.argv[1], "w"))
os.umask(0o022)
S = "/etc/systemd/system"
L = "/usr/local/lib/lab"  # the lab's own files in the VM


def p(path):
    return U + path


def put(path, text, mode=0o644):
    """A file of the upper layer."""
    os.makedirs(os.path.dirname(p(path)), exist_ok=True)
    with open(p(path), "w") as f:
        f.write(text)
    os.chmod(p(path), mode)


def link(path, target):
    os.makedirs(os.path.dirname(p(path)), exist_ok=True)
    os.symlink(target, p(path))


def whiteout(path):
    """Hide a path of the machine's / (overlayfs: a character device 0/0 in the upper layer)."""
    os.makedirs(os.path.dirname(p(path)), exist_ok=True)
    os.mknod(p(path), 0o644 | 0o020000, os.makedev(0, 0))


def opaque(path, mode):
    """A directory that starts empty instead of showing the machine's."""
    os.makedirs(p(path), exist_ok=True)
    os.chmod(p(path), mode)
    os.setxattr(p(path), "trusted.overlay.opaque", b"y")


def read(path):
    with open(path) as f:
        return f.read()


# ---- identity ------------------------------------------------------------------------------------
# The machine's /etc/machine-id would show through and be shared by every VM; an empty file would
# mean "first boot" to systemd. So: a new one per VM and per build. D-Bus reads its own copy first.
put("/etc/machine-id", uuid.uuid4().hex + "\n", 0o444)
link("/var/lib/dbus/machine-id", "/etc/machine-id")
put("/etc/hostname", NAME + "\n")
put("/etc/hosts", f"127.0.0.1\tlocalhost\n127.0.1.1\t{NAME}\n::1\tlocalhost ip6-localhost ip6-loopback\n")
# systemd-detect-virt would see the machine's /.dockerenv and take the VM for a container
# (console-getty instead of the serial one, ConditionVirtualization=!container units skipped)
whiteout("/.dockerenv")

# ---- ssh: the lab's host key lives on the disk, so it survives the VM's reboots --------------------
put("/etc/ssh/sshd_config", read(E["SSHD_CONFIG"]))
put("/etc/ssh/ssh_host_ed25519_key", read(E["HOST_KEY"]), 0o600)
put("/etc/ssh/ssh_host_ed25519_key.pub", read(E["HOST_KEY"] + ".pub"))
for k in ("rsa", "ecdsa"):  # the machine's other host keys: not this host's
    whiteout(f"/etc/ssh/ssh_host_{k}_key")
    whiteout(f"/etc/ssh/ssh_host_{k}_key.pub")
# Debian's ssh.service checks the config (sshd -t) before every start: ~1 s under TCG, on the
# boot's critical path, for a config the lab wrote itself.
put(f"{S}/ssh.service.d/lab.conf", "[Service]\nExecStartPre=\n")

# ---- fresh, empty directories ---------------------------------------------------------------------
# root's home (the machine's .bashrc would run in every lab session), temp dirs, logs. The journal
# directory makes the journal persistent: `journalctl --list-boots` lists every boot of this disk.
opaque("/root", 0o700)
put("/root/.ssh/authorized_keys", read(E["AUTHORIZED_KEYS"]), 0o600)
os.chmod(p("/root/.ssh"), 0o700)
opaque("/tmp", 0o1777)
opaque("/var/tmp", 0o1777)
opaque("/var/log", 0o755)
os.makedirs(p("/var/log/journal"))
os.chown(p("/var/log/journal"), 0, grp.getgrnam("systemd-journal").gr_gid)
os.chmod(p("/var/log/journal"), 0o2755)

# ---- kernel modules: the lab kernel's tree (in the machine's cache, seen through the lower) --------
link(f"/usr/lib/modules/{E['KVER']}", E["KMODDIR"])
# loaded at every boot, as in the lab's first VMs: IPVS (and ipip on the TUN real server)
put("/etc/modules-load.d/lab.conf", "ip_vs\nip_vs_rr\n" + ("ipip\n" if NAME == "rs5" else ""))

# ---- systemd ----------------------------------------------------------------------------------------
link(f"{S}/default.target", "/lib/systemd/system/multi-user.target")  # no display manager here
# Units of the machine that would run in every VM and only cost boot time: the machine's PostgreSQL
# (on the machine's data dir!), e2scrub, apt/dpkg/man-db timers, time sync, and systemd's early-boot
# extras (debug/tracing/fuse mounts, binfmt, sysusers, utmp, ...; remount-fs: the fstab has nothing
# to remount). Masked: a link to /dev/null.
MASKS = """postgresql.service postgresql@.service e2scrub_reap.service e2scrub_all.timer
  apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer man-db.timer fstrim.timer
  systemd-timesyncd.service systemd-pstore.service systemd-repart.service getty@tty1.service
  modprobe@.service sys-kernel-debug.mount sys-kernel-tracing.mount sys-kernel-config.mount
  sys-fs-fuse-connections.mount dev-hugepages.mount dev-mqueue.mount
  proc-sys-fs-binfmt_misc.automount proc-sys-fs-binfmt_misc.mount systemd-binfmt.service
  systemd-sysusers.service systemd-update-utmp.service systemd-update-utmp-runlevel.service
  systemd-tmpfiles-clean.timer ldconfig.service systemd-hwdb-update.service systemd-firstboot.service
  systemd-machine-id-commit.service systemd-user-sessions.service
  systemd-ask-password-console.path systemd-ask-password-wall.path
  systemd-remount-fs.service""".split()
for unit in MASKS:
    link(f"{S}/{unit}", "/dev/null")
# Generators that find nothing here but each cost a program run over 9p at every boot and
# daemon-reload. Kept: fstab, sysv (Debian's SysV-only scripts such as ipvsadm's), rc-local.
for g in ("gpt-auto", "cryptsetup", "integritysetup", "veritysetup", "hibernate-resume", "debug",
          "run", "system-update", "getty"):
    link(f"/etc/systemd/system-generators/systemd-{g}-generator", "/dev/null")
link("/etc/systemd/system-generators/postgresql-generator", "/dev/null")
# Installed and enabled on the machine by their packages, but not enabled here (VM_DISABLED_UNITS):
# their wants links hidden rather than the units masked, so `systemctl enable` works as on a real host.
for unit in E["VM_DISABLED_UNITS"].split():
    whiteout(f"{S}/multi-user.target.wants/{unit}")

# The lab's network: NICs renamed by MAC (eth0 on br0, mgmt0 for ssh), then addressed. Early (no
# default dependencies: beside sysinit) and before systemd-sysctl, so per-interface settings in
# /etc/sysctl.d find eth0; before network.target, which it pulls in, so every unit ordered after
# network.target (sshd, a VIP unit lvsplay may write) finds eth0 up and addressed.
# A director's back NIC (br1) is named eth1 and addressed too; other VMs have none.
BACK_CHECK = '[ -n "$back" ] || { echo "lab-net: the back NIC (br1) not found"; exit 1; }' if BACK else ""
BACK_IP = f"link set $back name lab-tmp1\nlink set lab-tmp1 name eth1\nlink set eth1 up\naddr add {BACK} dev eth1" if BACK else ""
BACK_SAID = f", eth1 {BACK}" if BACK else ""
put(f"{L}/net-up", f"""#!/bin/sh
# Name the NICs by MAC (their PCI order does not matter) and address them (lab-net.service, every
# boot). One `ip -batch` and shell builtins: every program run costs time early in a TCG boot.
set -eu
lab= mgmt= back=
for d in /sys/class/net/*; do
  read -r mac < "$d/address"
  case "$mac" in
    52:54:00:00:00:{MAC}) lab=${{d##*/}} ;;
    52:54:00:00:01:{MAC}) mgmt=${{d##*/}} ;;
    52:54:00:00:02:{MAC}) back=${{d##*/}} ;;
  esac
done
[ -n "$lab" ] && [ -n "$mgmt" ] || {{ echo "lab-net: NICs not found (lab=$lab mgmt=$mgmt)"; exit 1; }}
{BACK_CHECK}
ip -batch - <<EOF
link set lo up
link set $lab name lab-tmp0
link set $mgmt name mgmt0
link set lab-tmp0 name eth0
link set eth0 up
addr add {ADDR}/24 dev eth0
link set mgmt0 up
addr add {E['MGMT_GUEST']}/28 dev mgmt0
{BACK_IP}
EOF
echo "lab-net: eth0 {ADDR}/24, mgmt0 {E['MGMT_GUEST']}/28{BACK_SAID}"
""", 0o755)
put(f"{S}/lab-net.service", f"""[Unit]
Description=Lab network: NICs named by MAC (eth0, mgmt0, a director's eth1) and addressed
DefaultDependencies=no
Wants=network.target
Before=network-pre.target network.target systemd-sysctl.service shutdown.target
Conflicts=shutdown.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart={L}/net-up
StandardOutput=journal+console

[Install]
WantedBy=sysinit.target
""")
link(f"{S}/sysinit.target.wants/lab-net.service", f"{S}/lab-net.service")

# The lab's web services on a real server VM, as on the namespace real servers: HTTP :80 and UDP :53
# answering the host's name. Enabled units; reset.sh starts them again when a test stopped one.
if E["WEB"] == "yes":
    put(f"{L}/www/index.html", NAME + "\n")
    put(f"{L}/udp-name.py", read(E["UDP_NAME"]), 0o755)
    put(f"{S}/lab-httpd.service", f"""[Unit]
Description=Lab web page: busybox httpd on :80 answering this host's name
After=network.target

[Service]
ExecStart=/bin/busybox httpd -f -p 80 -h {L}/www

[Install]
WantedBy=multi-user.target
""")
    put(f"{S}/lab-udp-name.service", f"""[Unit]
Description=Lab UDP service: :53 answering this host's name, from the address asked
After=network.target

[Service]
ExecStart=/usr/bin/python3 {L}/udp-name.py {NAME}

[Install]
WantedBy=multi-user.target
""")
    for unit in ("lab-httpd.service", "lab-udp-name.service"):
        link(f"{S}/multi-user.target.wants/{unit}", f"{S}/{unit}")
