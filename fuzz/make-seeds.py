#!/usr/bin/env python3
"""Writes the small seed corpora in fuzz/seeds/<target>/ from bench/data/*.bin and samples/sample.pcap.

Run from the repository root: python3 fuzz/make-seeds.py. Deterministic; the output is checked in.
"""
import os
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEEDS = os.path.join(ROOT, "fuzz", "seeds")
MARKER = b"RDNS"  # frame separator of the reassembly target (Program.cs FrameMarker)
ETHERNET = b"\x00"  # link-type selector byte: index 0 of LinkTypes is Ethernet
RAW_IPV4 = b"\x02"  # index 2 is LINKTYPE_IPV4


def write(target, name, data):
    os.makedirs(os.path.join(SEEDS, target), exist_ok=True)
    with open(os.path.join(SEEDS, target, name), "wb") as f:
        f.write(data)


def pcap_frames(path):
    d = open(path, "rb").read()
    o = 24
    while o + 16 <= len(d):
        _, _, incl, _ = struct.unpack("<IIII", d[o:o + 16])
        yield d[o + 16:o + 16 + incl]
        o += 16 + incl


def classify(fr):
    et = struct.unpack(">H", fr[12:14])[0]
    if et == 0x800:
        ihl = (fr[14] & 15) * 4
        proto = fr[23]
        if proto == 17:
            return "v4-udp-response" if fr[14 + ihl + 8 + 2] & 0x80 else "v4-udp-query"
        tcp = fr[14 + ihl:]
        payload = len(fr) - 14 - ihl - (tcp[12] >> 4) * 4
        return "v4-tcp-data" if payload > 0 else "v4-tcp-nodata"
    if et == 0x86DD:
        return "v6-udp" if fr[20] == 17 else "v6-tcp"
    return None


def checksum(h):
    s = sum(struct.unpack(">%dH" % (len(h) // 2), h))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def fragment_v4(fr, first_len):
    """Splits an Ethernet+IPv4 frame's IP payload at first_len (a multiple of 8) into two fragments."""
    eth, ip = fr[:14], fr[14:]
    ihl = (ip[0] & 15) * 4
    hdr, payload = bytearray(ip[:ihl]), ip[ihl:]
    out = []
    for off, part, more in ((0, payload[:first_len], True), (first_len, payload[first_len:], False)):
        h = bytearray(hdr)
        struct.pack_into(">H", h, 2, ihl + len(part))
        struct.pack_into(">H", h, 4, 0x1234)
        struct.pack_into(">H", h, 6, (0x2000 if more else 0) | (off // 8))
        struct.pack_into(">H", h, 10, 0)
        struct.pack_into(">H", h, 10, checksum(bytes(h)))
        out.append(eth + bytes(h) + part)
    return out


def main():
    # dns: whole messages.
    for name in ("query-edns", "response-compressed", "response-dnssec-large"):
        write("dns", name, open(os.path.join(ROOT, "bench", "data", name + ".bin"), "rb").read())

    frames = list(pcap_frames(os.path.join(ROOT, "samples", "sample.pcap")))
    picked = {}
    for fr in frames:
        kind = classify(fr)
        if kind and kind not in picked:
            picked[kind] = fr

    # frame: link-type byte + frame.
    for kind, fr in sorted(picked.items()):
        write("frame", kind, ETHERNET + fr)
    write("frame", "raw-ipv4-udp-query", RAW_IPV4 + picked["v4-udp-query"][14:])

    # pcap / pcapng: a few frames each.
    few = [picked[k] for k in ("v4-udp-query", "v4-udp-response", "v6-udp")]
    pcap = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    for i, fr in enumerate(few):
        pcap += struct.pack("<IIII", 1_700_000_000 + i, 0, len(fr), len(fr)) + fr
    write("pcap", "three-frames.pcap", pcap)

    def block(btype, body):
        body += b"\x00" * (-len(body) % 4)
        n = 12 + len(body)
        return struct.pack("<II", btype, n) + body + struct.pack("<I", n)

    shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    idb = block(1, struct.pack("<HHI", 1, 0, 65535) + struct.pack("<HHB3x", 9, 1, 9) + struct.pack("<HH", 0, 0))
    ng = shb + idb
    for i, fr in enumerate(few):
        ts = (1_700_000_000 + i) * 1_000_000_000
        ng += block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(fr), len(fr)) + fr)
    write("pcap", "three-frames.pcapng", ng)

    # reassembly: a TCP DNS conversation, and a UDP response split into two IPv4 fragments.
    tcp = [fr for fr in frames if classify(fr) in ("v4-tcp-data", "v4-tcp-nodata")][:12]
    write("reassembly", "tcp-conversation", ETHERNET + MARKER.join(tcp))
    response = next(fr for fr in frames if classify(fr) == "v4-udp-response" and len(fr) > 14 + 20 + 8 + 40)
    write("reassembly", "udp-two-fragments", ETHERNET + MARKER.join(fragment_v4(response, 16)))
    write("reassembly", "udp-query-response", ETHERNET + MARKER.join([picked["v4-udp-query"], picked["v4-udp-response"]]))

    # config: the sample and the benchmark one (every reducer).
    write("config", "sample.json", open(os.path.join(ROOT, "samples", "monitor.json"), "rb").read())
    write("config", "monitor-all.json", open(os.path.join(ROOT, "bench", "monitor-all.json"), "rb").read())


if __name__ == "__main__":
    main()
