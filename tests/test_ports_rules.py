"""Each validation rule of the port profiles, alone: the finding appears exactly when the
rule applies (so every test fails if its rule is removed or loosened)."""
from __future__ import annotations

import pytest

from hivetool.profiles.rules import (ERROR, NOTICE, WARNING, PortContext, check_pool, check_port, check_unique,
                                     parse_port_list)


def codes(profile: str, port: int, **ctx) -> dict[str, str]:
    context = PortContext(ctx.pop("os", "nt4"), **ctx)
    return {f.code: f.level for f in check_port(profile, "ds", port, context)}


@pytest.mark.parametrize("port", [0, 65536, 70000])
def test_port_outside_tcp_range_is_an_error(port):
    assert codes("exchange55", port) == {"P-RANGE": ERROR}


def test_endpoint_mapper_port_is_an_error():
    assert codes("exchange55", 135) == {"P-EPMAP": ERROR}


@pytest.mark.parametrize("port", [25, 53, 80, 88, 102, 110, 119, 123, 137, 138, 139, 143, 389, 390, 443, 445,
                                  464, 563, 636, 993, 995])
def test_well_known_service_ports_below_1024_are_errors(port):
    assert codes("exchange55", port) == {"P-WELL-KNOWN": ERROR}


@pytest.mark.parametrize("port", [3268, 3269])
def test_global_catalog_ports_are_errors_and_also_dynamic(port):
    assert codes("exchange55", port) == {"P-WELL-KNOWN": ERROR, "P-DYNAMIC": WARNING}


def test_other_ports_below_1024_are_warnings():
    assert codes("exchange55", 1000) == {"P-BELOW-1024": WARNING}
    assert codes("exchange55", 1023) == {"P-BELOW-1024": WARNING}


@pytest.mark.parametrize("port", [1024, 1100, 1199])
def test_immediately_above_1023_is_an_error(port):
    assert codes("exchange55", port) == {"P-ABOVE-1023": ERROR, "P-DYNAMIC": WARNING}


def test_the_seed_example_passes_with_the_dynamic_range_warning_only():
    assert codes("exchange55", 1225) == {"P-DYNAMIC": WARNING}
    assert codes("exchange55", 1226) == {"P-DYNAMIC": WARNING}


def test_pre_vista_dynamic_range_follows_max_user_port():
    assert codes("exchange55", 5000) == {"P-DYNAMIC": WARNING}
    assert codes("exchange55", 5001) == {}
    assert codes("exchange55", 5001, max_user_port=10000) == {"P-DYNAMIC": WARNING}
    assert codes("exchange55", 10001, max_user_port=10000) == {}


def test_vista_dynamic_range_is_49152_and_up():
    assert codes("exchange55", 5000, os="vista+") == {}
    assert codes("exchange55", 49151, os="vista+") == {}
    finding = check_port("ad", "ntds", 49152, PortContext("vista+"))[0]
    assert (finding.code, finding.level) == ("P-DYNAMIC", WARNING)
    assert "netsh cannot be seen in an offline hive" in finding.message


@pytest.mark.parametrize("port", [6001, 6002, 6004])
def test_exchange_2003_rpc_over_http_ports_are_errors(port):
    assert codes("exchange2003", port) == {"P-RPC-HTTP": ERROR}


def test_exchange_2010_band_and_low_ports():
    assert codes("exchange2010", 59531, os="vista+") == {}
    assert codes("exchange2010", 60554, os="vista+") == {}
    assert codes("exchange2010", 60555, os="vista+") == {"P-EX2010-BAND": NOTICE}
    assert codes("exchange2010", 6005, os="vista+") == {"P-EX2010-BAND": NOTICE}
    # Setup moved the dynamic range, so the Vista+ dynamic warning does not apply to this profile.
    assert codes("exchange2010", 50000, os="vista+") == {"P-EX2010-BAND": NOTICE}
    assert codes("exchange2010", 1000, os="vista+") == {"P-EX2010-LOW": ERROR}


def test_rpc_pool_from_software_is_a_warning_only_when_the_pool_is_available():
    pool = [(5000, 5100)]
    assert codes("exchange55", 5050, rpc_pool=pool) == {"P-RPC-POOL": WARNING}
    assert codes("exchange55", 5200, rpc_pool=pool) == {}
    assert codes("exchange55", 5050, rpc_pool=pool, rpc_pool_available=False) == {}


def test_two_services_on_one_port_are_an_error():
    ctx = PortContext("nt4")
    found = check_unique([("ds", 5000), ("is", 5000)], ctx)
    assert [(f.code, f.setting) for f in found] == [("P-DUPLICATE", "is")]
    assert "already pinned for ds" in found[0].message


def test_ports_already_pinned_in_the_hive_count():
    ctx = PortContext("vista+", pinned=[(r"Services\NTDS\Parameters\TCP/IP Port (already in ControlSet001)", 5000)])
    found = check_unique([("netlogon", 5000)], ctx)
    assert [(f.code, f.setting) for f in found] == [("P-DUPLICATE", "netlogon")]
    assert check_unique([("netlogon", 5001)], ctx) == []


def test_pool_size_and_height():
    assert {f.code for f in check_pool("ports", [(5000, 5100)])} == {"P-POOL-LOW"}
    assert {f.code for f in check_pool("ports", [(5001, 5050)])} == {"P-POOL-SMALL"}
    assert check_pool("ports", [(5001, 5100)]) == []


def test_port_list_syntax():
    assert parse_port_list("5000-5100, 5200") == [(5000, 5100), (5200, 5200)]
    for bad in ("5100-5000", "abc", "70000"):
        with pytest.raises(ValueError):
            parse_port_list(bad)
