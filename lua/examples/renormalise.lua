-- Scales packet and octet counts by the sampling rate the exporter announced (1 in N), so
-- that sums over records estimate the traffic itself.
--
--   - lua: {file: renormalise.lua}
--
-- r:sampling_rate() is the rate that applies to the record (options records of the exporter,
-- or the collector's sampling setting); 1 when unsampled. The product stays exact past 2^53:
-- such values come as 64-bit integers and are written back as they are.

function on_record(r)
    local rate = r:sampling_rate()
    if rate > 1 then
        local octets, packets = r.octetDeltaCount, r.packetDeltaCount
        if octets then
            r.octetDeltaCount = octets * rate
        end
        if packets then
            r.packetDeltaCount = packets * rate
        end
    end
end
