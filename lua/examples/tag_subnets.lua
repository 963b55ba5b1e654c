-- Tags each record with the site its source address belongs to, from a CSV of prefixes
-- (longest prefix wins; IPv4 and IPv6).
--
--   - lua: {file: tag_subnets.lua,
--           settings: {file: subnets.csv, element: observationDomainName, default: outside}}
--
-- The table is read once per configuration and shared by every worker; element is where the
-- tag goes (a string element: an enterprise element from an elements file is the usual choice).

local sites, element, default

function init(settings)
    sites = ipfixd.prefix_table(settings.file or "subnets.csv")
    element = settings.element or "observationDomainName"
    default = settings.default
end

function on_record(r)
    local src = r.sourceIPv4Address or r.sourceIPv6Address
    local site = src and sites:lookup(src) or default
    if site then
        r[element] = site
    end
end
