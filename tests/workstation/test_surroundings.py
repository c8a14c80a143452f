"""The network and disk warnings, from a tree laid out like /sys and /proc.

The kernel's files are plain text, so each test writes the few a real machine would have
and hands the folder to Surroundings as its root. One test reads this machine's own.
"""

from __future__ import annotations

from pathlib import Path

from workstation.surroundings import Surroundings


def interface(root: Path, name: str, state: str, flags: str) -> None:
    """An entry in sys/class/net as the kernel writes it."""
    folder = root / "sys/class/net" / name
    folder.mkdir(parents=True)
    (folder / "operstate").write_text(state + "\n")
    (folder / "flags").write_text(flags + "\n")
    dev = root / "proc/self/net/dev"
    dev.parent.mkdir(parents=True, exist_ok=True)
    if not dev.exists():
        dev.write_text("Inter-|   Receive\n face |bytes    packets\n")
    with dev.open("a") as handle:
        handle.write(f"  {name}: 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n")


def dm_device(root: Path, name: str, mapper: str, uuid: str, slaves: tuple[str, ...] = ()) -> None:
    """A device-mapper block device in sys/block."""
    folder = root / "sys/block" / name
    (folder / "dm").mkdir(parents=True)
    (folder / "dm/name").write_text(mapper + "\n")
    (folder / "dm/uuid").write_text(uuid + "\n")
    (folder / "slaves").mkdir()
    for slave in slaves:
        (folder / "slaves" / slave).mkdir()


def mounts(root: Path, *lines: str) -> None:
    """proc/mounts with these lines."""
    (root / "proc").mkdir(parents=True, exist_ok=True)
    (root / "proc/mounts").write_text("".join(line + "\n" for line in lines))


def test_only_loopback_up_means_no_network_warning(tmp_path: Path) -> None:
    interface(tmp_path, "lo", "unknown", "0x9")
    interface(tmp_path, "eth0", "down", "0x1002")
    interface(tmp_path, "wlan0", "dormant", "0x1003")
    assert Surroundings(tmp_path).network_interfaces_up() == []


def test_an_interface_that_is_up_is_named(tmp_path: Path) -> None:
    interface(tmp_path, "lo", "unknown", "0x9")
    interface(tmp_path, "enp3s0", "up", "0x1003")
    interface(tmp_path, "tun0", "unknown", "0x1091")
    mounts(tmp_path, "tmpfs / tmpfs rw 0 0")
    warnings = Surroundings(tmp_path).warnings(Path("/x"))
    assert len(warnings) == 1
    assert "NETWORK IS UP" in warnings[0] and "enp3s0, tun0" in warnings[0]


def test_only_this_network_namespace_counts(tmp_path: Path) -> None:
    # /sys still shows the host's eth0, but this process's namespace has only loopback.
    interface(tmp_path, "lo", "unknown", "0x9")
    host = tmp_path / "sys/class/net/eth0"
    host.mkdir(parents=True)
    (host / "operstate").write_text("up\n")
    (host / "flags").write_text("0x1003\n")
    assert Surroundings(tmp_path).network_interfaces_up() == []


def test_an_interface_with_no_state_is_reported(tmp_path: Path) -> None:
    interface(tmp_path, "lo", "unknown", "0x9")
    with (tmp_path / "proc/self/net/dev").open("a") as handle:
        handle.write("  wg0: 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n")
    assert Surroundings(tmp_path).network_interfaces_up() == ["wg0"]


def test_tmpfs_is_safe_and_the_longest_mount_wins(tmp_path: Path) -> None:
    mounts(
        tmp_path,
        "/dev/sda1 / ext4 rw 0 0",
        "tmpfs /run/user/1000 tmpfs rw 0 0",
        "/dev/sdb1 /run/user/1000/usb vfat rw 0 0",
    )
    found = Surroundings(tmp_path)
    assert found.warnings(Path("/run/user/1000/reports")) == []
    assert "neither tmpfs nor an encrypted volume" in found.warnings(Path("/home/x"))[0]
    assert "/dev/sdb1 (vfat" in found.warnings(Path("/run/user/1000/usb/r"))[0]


def test_a_mount_point_with_a_space_is_unescaped(tmp_path: Path) -> None:
    mounts(tmp_path, "/dev/sda1 / ext4 rw 0 0", "tmpfs /media/my\\040ram tmpfs rw 0 0")
    assert Surroundings(tmp_path).warnings(Path("/media/my ram/out")) == []


def test_dm_crypt_directly_and_under_lvm(tmp_path: Path) -> None:
    dm_device(tmp_path, "dm-0", "luks-1234", "CRYPT-LUKS2-1234-luks-1234")
    dm_device(tmp_path, "dm-1", "vg-home", "LVM-abcdef", slaves=("dm-0",))
    dm_device(tmp_path, "dm-2", "vg-plain", "LVM-fedcba", slaves=("sda2",))
    mounts(
        tmp_path,
        "/dev/mapper/vg-plain / ext4 rw 0 0",
        "/dev/mapper/vg-home /home ext4 rw 0 0",
        "/dev/dm-0 /secure ext4 rw 0 0",
    )
    found = Surroundings(tmp_path)
    assert found.warnings(Path("/home/staff/out")) == []
    assert found.warnings(Path("/secure/out")) == []
    assert "neither tmpfs" in found.warnings(Path("/srv/out"))[0]


def test_this_machine_is_read_without_error() -> None:
    found = Surroundings()
    up = found.network_interfaces_up()
    assert "lo" not in up
    mount = found.mount_of(Path("/tmp/does/not/exist/yet"))
    assert mount is not None and mount.point.startswith("/")
