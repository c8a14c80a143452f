"""Is this machine still air-gapped, and will decrypted reports land somewhere safe?

Read straight from the kernel: /proc/self/net/dev and /sys/class/net for interfaces,
/proc/mounts for the filesystem under the output folder, /sys/block/dm-*/dm/uuid
("CRYPT-...") for dm-crypt.
`root` is "/" except in tests, which hand in a directory laid out the same way.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

IFF_UP = 0x1
IFF_LOOPBACK = 0x8
MEMORY_FILESYSTEMS = {"tmpfs", "ramfs"}
ENCRYPTED_FILESYSTEMS = {"ecryptfs"}


@dataclass(frozen=True)
class Mount:
    """One line of /proc/mounts."""

    device: str
    point: str
    fstype: str


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def _unescape(field: str) -> str:
    """/proc/mounts writes space, tab, newline and backslash as octal escapes."""
    return re.sub(r"\\([0-7]{3})", lambda found: chr(int(found.group(1), 8)), field)


class Surroundings:
    """The machine as the kernel describes it."""

    def __init__(self, root: Path = Path("/")) -> None:
        self._root = root

    def _interface_names(self) -> list[str]:
        """Interfaces of this process's network namespace.

        /proc/self/net/dev follows the namespace; /sys/class/net shows the one /sys was
        mounted in, so it is only the fallback.
        """
        lines = _read(self._root / "proc/self/net/dev").splitlines()[2:]
        if lines:
            return sorted(line.split(":", 1)[0].strip() for line in lines if ":" in line)
        net = self._root / "sys/class/net"
        return sorted(path.name for path in net.iterdir()) if net.is_dir() else []

    def network_interfaces_up(self) -> list[str]:
        """Names of interfaces, other than loopback, that are up (or whose state is unknown)."""
        found = []
        for name in self._interface_names():
            interface = self._root / "sys/class/net" / name
            if not interface.is_dir():
                found.append(name)  # cannot tell: say so rather than stay quiet
                continue
            flags_text = _read(interface / "flags")
            flags = int(flags_text, 16) if re.fullmatch(r"0x[0-9a-fA-F]+", flags_text) else 0
            if flags & IFF_LOOPBACK:
                continue
            state = _read(interface / "operstate")
            # Tunnels and some virtual links say "unknown" while passing traffic.
            if state == "up" or (state == "unknown" and flags & IFF_UP):
                found.append(name)
        return found

    def mounts(self) -> list[Mount]:
        """Every mounted filesystem."""
        mounts = []
        for line in _read(self._root / "proc/mounts").splitlines():
            fields = line.split()
            if len(fields) >= 3:
                mounts.append(Mount(_unescape(fields[0]), _unescape(fields[1]), fields[2]))
        return mounts

    def mount_of(self, path: Path) -> Mount | None:
        """The mount holding path (links resolved; a part not made yet is taken as written)."""
        target = os.path.realpath(path)
        best: Mount | None = None
        for mount in self.mounts():
            point = mount.point.rstrip("/") or "/"
            inside = target == point or target.startswith(point.rstrip("/") + "/")
            if inside and (best is None or len(point) >= len(best.point.rstrip("/") or "/")):
                best = mount
        return best

    def is_encrypted_device(self, device: str) -> bool:
        """Whether a block device is dm-crypt, or sits on dm-crypt (LVM on LUKS)."""
        name = self._dm_name(device)
        return name is not None and self._dm_crypt(name, depth=0)

    def _dm_name(self, device: str) -> str | None:
        """ "/dev/dm-3" -> "dm-3"; "/dev/mapper/luks-home" -> the dm-N of that name."""
        if re.fullmatch(r"/dev/dm-[0-9]+", device):
            return device.rsplit("/", 1)[1]
        if device.startswith("/dev/mapper/"):
            wanted = device.removeprefix("/dev/mapper/")
            for block in sorted((self._root / "sys/block").glob("dm-*")):
                if _read(block / "dm/name") == wanted:
                    return block.name
        return None

    def _dm_crypt(self, name: str, depth: int) -> bool:
        block = self._root / "sys/block" / name
        if _read(block / "dm/uuid").startswith("CRYPT-"):
            return True
        slaves = block / "slaves"
        if depth > 8 or not slaves.is_dir():
            return False
        return any(self._dm_crypt(slave.name, depth + 1) for slave in slaves.iterdir())

    def warnings(self, out_dir: Path) -> list[str]:
        """What a staff member should know before reading reports here."""
        found = []
        up = self.network_interfaces_up()
        if up:
            found.append(
                "NETWORK IS UP on this machine ("
                + ", ".join(up)
                + "). The workstation must be air-gapped: unplug it or switch networking off "
                "before decrypting reports."
            )
        mount = self.mount_of(out_dir)
        if mount is None:
            found.append(f"{out_dir}: cannot tell which filesystem it is on.")
        elif mount.fstype not in MEMORY_FILESYSTEMS | ENCRYPTED_FILESYSTEMS and not (
            self.is_encrypted_device(mount.device)
        ):
            found.append(
                f"{out_dir} is on {mount.device} ({mount.fstype} at {mount.point}), which is "
                "neither tmpfs nor an encrypted volume: decrypted reports will stay on that "
                "disk. Prefer a folder under a tmpfs or a LUKS volume."
            )
        return found
