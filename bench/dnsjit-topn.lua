#!/usr/bin/env dnsjit
-- The dnsjit side of bench/monitor.sh: what a tuned DNS-OARC tool does with the same capture when it parses the
-- DNS header and the question of every message and reduces them like RataDns's QueriesPerSecond and TopNQ:
-- queries per second of packet time (whole seconds) and the 10 most asked names (case-folded, as TopNQ does).
-- Usage: dnsjit bench/dnsjit-topn.lua FILE.pcap
-- Prints totals at the end (packets, DNS messages, queries, parse failures) so a run can be checked for having
-- read every packet.
local pcap = arg[2]
if pcap == nil then
    io.stderr:write("usage: dnsjit " .. arg[1] .. " FILE.pcap\n")
    os.exit(2)
end

local object = require("dnsjit.core.objects")
local input = require("dnsjit.input.mmpcap").new()
local layer = require("dnsjit.filter.layer").new()
local dns = require("dnsjit.core.object.dns").new()
local q = require("dnsjit.core.object.dns.q").new()
local label = require("dnsjit.core.object.dns.label")

local MAX_LABELS = 32
local TOP = 10
local labels = label.new(MAX_LABELS)

if input:open(pcap) ~= 0 then
    io.stderr:write("dnsjit-topn: cannot open " .. pcap .. "\n")
    os.exit(1)
end
layer:producer(input)
local producer, ctx = layer:produce()

local packets, messages, queries, failed = 0, 0, 0, 0
local per_second = {}  -- second of packet time -> queries
local names = {}       -- lower-cased qname -> queries

while true do
    local obj = producer(ctx)
    if obj == nil then break end
    packets = packets + 1
    if obj.obj_type == object.PAYLOAD then
        local payload = obj:cast()
        -- The layer filter hands over the top-most object; walk down the chain for the transport and the pcap
        -- record (its timestamp is the packet time).
        local tcp = false
        local second = nil
        local below = obj.obj_prev
        while below ~= nil do
            if below.obj_type == object.TCP then
                tcp = true
            elseif below.obj_type == object.PCAP then
                second = tonumber(below:cast().ts.sec)
                break
            end
            below = below.obj_prev
        end

        if payload.len > 0 then
            dns.obj_prev = obj
            -- DNS over TCP carries a 2-byte length before the message (RFC 7766 8).
            dns.includes_dnslen = tcp and 1 or 0
            if dns:parse_header() == 0 then
                messages = messages + 1
                if dns.qr == 0 then
                    queries = queries + 1
                    if second ~= nil then
                        per_second[second] = (per_second[second] or 0) + 1
                    end
                    if dns.qdcount > 0 and dns:parse_q(q, labels, MAX_LABELS) == 0 then
                        local name = label.tostring(dns, labels, q.labels)
                        if name ~= nil then
                            name = string.lower(name)
                            names[name] = (names[name] or 0) + 1
                        end
                    else
                        failed = failed + 1
                    end
                end
            else
                failed = failed + 1
            end
        end
    end
end

-- Top names: one pass keeping the best TOP (no full sort of a table that may hold millions of names).
local top = {}
for name, count in pairs(names) do
    if #top < TOP or count > top[#top][2] or (count == top[#top][2] and name < top[#top][1]) then
        local i = #top < TOP and #top + 1 or TOP
        top[i] = { name, count }
        while i > 1 and (top[i][2] > top[i - 1][2] or (top[i][2] == top[i - 1][2] and top[i][1] < top[i - 1][1])) do
            top[i], top[i - 1] = top[i - 1], top[i]
            i = i - 1
        end
    end
end

local seconds, peak, distinct = 0, 0, 0
for _, n in pairs(per_second) do
    seconds = seconds + 1
    if n > peak then peak = n end
end
for _ in pairs(names) do distinct = distinct + 1 end

for i, entry in ipairs(top) do
    print(string.format("top %2d  %8d  %s", i, entry[2], entry[1]))
end
print(string.format("seconds: %d (peak %d queries/s)", seconds, peak))
print(string.format("distinct names: %d", distinct))
print(string.format("totals: packets %d, dns messages %d, queries %d, parse failures %d", packets, messages, queries, failed))
