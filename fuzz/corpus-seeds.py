#!/usr/bin/env python3
"""Extracts fuzz seeds from the shared capture corpus (../shared/corpus) into a directory that is never committed.

Usage: python3 fuzz/corpus-seeds.py CORPUS_DIR OUT_DIR
Writes OUT_DIR/{dns,frame,pcap,reassembly}/: single DNS messages (UDP and TCP payloads on port 53), single frames
(prefixed with the harness's link-type selector byte), whole small captures, and small captures converted to the
reassembly target's format (selector byte, frames separated by "RDNS"). Inputs are chosen for variety (one per
distinct shape) and kept small, as AFL wants. Deterministic for a given corpus.
"""
import os
import struct
import sys

# Index of each LINKTYPE in Program.cs LinkTypes (the first byte of a frame/reassembly input selects it).
SELECTOR = {1: 0, 101: 1, 228: 2, 229: 3, 113: 4, 276: 5, 0: 6, 108: 7, 12: 8, 14: 9}
MARKER = b"RDNS"
MAX_MESSAGE, MAX_FRAME, MAX_CAPTURE = 1500, 1600, 6000
LIMITS = {"dns": 150, "frame": 120, "pcap": 40, "reassembly": 40}


def records(data):
    """(linktype, frame) of every record of a classic pcap or pcapng image; stops quietly at damage."""
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = "<" if magic[0] in (0xD4, 0x4D) else ">"
        link = struct.unpack(e + "I", data[20:24])[0] & 0xFFFF
        o = 24
        while o + 16 <= len(data):
            incl = struct.unpack(e + "I", data[o + 8:o + 12])[0]
            if incl > 262144 or o + 16 + incl > len(data):
                return
            yield link, data[o + 16:o + 16 + incl]
            o += 16 + incl
    elif magic == b"\x0a\x0d\x0d\x0a":
        e = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
        links, o = [], 0
        while o + 12 <= len(data):
            btype, blen = struct.unpack(e + "II", data[o:o + 8])
            if blen < 12 or o + blen > len(data):
                return
            body = data[o + 8:o + blen - 4]
            if btype == 0x0A0D0D0A:
                links = []
            elif btype == 1 and len(body) >= 2:
                links.append(struct.unpack(e + "H", body[:2])[0])
            elif btype == 6 and len(body) >= 20:
                iface, _, _, cap = struct.unpack(e + "IIII", body[:16])
                if iface < len(links):
                    yield links[iface], body[20:20 + cap]
            elif btype == 3 and len(body) >= 4 and links:
                yield links[0], body[4:]
            o += blen


def ip_layer(link, fr):
    """The IP packet inside a frame of a common link type, or None."""
    if link == 1:
        o, et = 14, struct.unpack(">H", fr[12:14])[0] if len(fr) >= 14 else 0
        while et in (0x8100, 0x88A8) and len(fr) >= o + 4:
            et, o = struct.unpack(">H", fr[o + 2:o + 4])[0], o + 4
        return fr[o:] if et in (0x800, 0x86DD) else None
    if link == 113:
        return fr[16:] if len(fr) >= 16 and struct.unpack(">H", fr[14:16])[0] in (0x800, 0x86DD) else None
    if link == 276:
        return fr[20:] if len(fr) >= 20 and struct.unpack(">H", fr[0:2])[0] in (0x800, 0x86DD) else None
    if link in (0, 108):
        return fr[4:]
    if link in (101, 228, 229, 12, 14):
        return fr
    return None


def dns_payload(ip):
    """(protocol, DNS payload) of an unfragmented IPv4/IPv6 UDP or TCP packet on port 53, or None."""
    if not ip:
        return None
    if ip[0] >> 4 == 4 and len(ip) >= 20:
        ihl = (ip[0] & 15) * 4
        if struct.unpack(">H", ip[6:8])[0] & 0x3FFF:
            return None
        proto, l4 = ip[9], ip[ihl:]
    elif ip[0] >> 4 == 6 and len(ip) >= 40:
        proto, l4 = ip[6], ip[40:]
    else:
        return None
    if len(l4) < 8:
        return None
    sport, dport = struct.unpack(">HH", l4[:4])
    if 53 not in (sport, dport):
        return None
    if proto == 17:
        return "udp", l4[8:]
    if proto == 6 and len(l4) >= 20:
        data = l4[(l4[12] >> 4) * 4:]
        return ("tcp", data[2:]) if len(data) > 14 else None
    return None


def shape(message):
    """What makes a DNS message different from another for seeding: flags, counts, the first question's type."""
    if len(message) < 12:
        return ("short", len(message))
    flags, qd, an, ns, ar = struct.unpack(">HHHHH", message[2:12])
    qtype = None
    o = 12
    while qd and o < len(message) and message[o] != 0 and message[o] < 64:
        o += message[o] + 1
    if qd and o + 3 <= len(message):
        qtype = struct.unpack(">H", message[o + 1:o + 3])[0]
    return (flags & 0xFBFF, min(qd, 2), min(an, 3), min(ns, 2), min(ar, 2), qtype)


def main(corpus, out):
    chosen = {t: {} for t in LIMITS}
    paths = sorted(os.path.join(d, f) for d, _, fs in os.walk(corpus) for f in fs
                   if f.endswith((".pcap", ".pcapng", ".cap", ".dmp")))
    for path in paths:
        try:
            data = open(path, "rb").read()
        except OSError:
            continue
        frames = list(records(data))
        if not frames:
            continue
        link = frames[0][0]
        if len(data) <= MAX_CAPTURE:
            chosen["pcap"].setdefault((link, data[:4], len(frames) > 4), data)
            if link in SELECTOR:
                joined = MARKER.join(fr for _, fr in frames)
                chosen["reassembly"].setdefault((link, len(frames) > 4, path.split("/")[0]), bytes([SELECTOR[link]]) + joined)
        for lt, fr in frames:
            ip = ip_layer(lt, fr)
            found = dns_payload(ip)
            if lt in SELECTOR and len(fr) <= MAX_FRAME and ip is not None:
                proto = ip[9] if ip[0] >> 4 == 4 and len(ip) > 9 else (ip[6] if len(ip) > 6 else -1)
                key = (lt, ip[0] >> 4, proto, found is not None, found[0] if found else None)
                chosen["frame"].setdefault(key, bytes([SELECTOR[lt]]) + fr)
            if found and 0 < len(found[1]) <= MAX_MESSAGE:
                chosen["dns"].setdefault((found[0],) + shape(found[1]), found[1])
    for target, items in chosen.items():
        folder = os.path.join(out, target)
        os.makedirs(folder, exist_ok=True)
        for i, (_, blob) in enumerate(list(items.items())[:LIMITS[target]]):
            with open(os.path.join(folder, "corpus-%03d" % i), "wb") as f:
                f.write(blob)
        print("%s: %d seeds from %d captures" % (target, min(len(items), LIMITS[target]), len(paths)))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: corpus-seeds.py CORPUS_DIR OUT_DIR")
    main(sys.argv[1], sys.argv[2])
