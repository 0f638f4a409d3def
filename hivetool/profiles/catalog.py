"""The catalog of static-port profiles, each setting with its registry location and source.

Paths of SYSTEM profiles are relative to a control set (``ControlSet%03d``, which is
``CurrentControlSet`` on a running machine); paths of SOFTWARE profiles are relative to the
SOFTWARE hive's root. Value names are written with the catalog's spelling; existing values
are matched case-insensitively.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..regf.records.types import RegType

PORT = "port"  # a TCP port number, 1-65535
PORT_LIST = "port_list"  # lines of ports or ranges "a-b" (REG_MULTI_SZ)
YES_NO = "yes_no"  # "Y" or "N" (REG_SZ)


@dataclass(frozen=True)
class Setting:
    name: str  # what the user types: ds=1225
    service: str | None  # Services\<service> must exist (the service is installed); None for SOFTWARE
    key: str  # where the value lives (below the control set, or the SOFTWARE root)
    value: str  # the value name, catalog spelling
    type: int
    kind: str
    may_create_key: bool  # the source says to create the key when missing
    source: str
    meaning: str


@dataclass(frozen=True)
class Profile:
    name: str
    hive: str  # "SYSTEM" or "SOFTWARE"
    title: str
    settings: tuple[Setting, ...]
    sources: str

    def setting(self, name: str) -> Setting:
        for setting in self.settings:
            if setting.name == name.lower():
                return setting
        raise KeyError(name)


def _svc(name: str, service: str, sub: str, value: str, source: str, meaning: str, *,
         value_type: int = RegType.DWORD, create: bool = False) -> Setting:
    return Setting(name, service, f"Services\\{service}\\{sub}", value, value_type, PORT, create, source, meaning)


PROFILES: dict[str, Profile] = {}


def _add(profile: Profile) -> None:
    PROFILES[profile.name] = profile


_add(Profile(
    "exchange55", "SYSTEM", "Exchange Server 4.0/5.0/5.5 RPC services behind a firewall",
    (
        _svc("ds", "MSExchangeDS", "Parameters", "TCP/IP port", "Q148732, Q155831",
             "Directory (DS): MAPI directory access and intrasite replication"),
        _svc("is", "MSExchangeIS", "ParametersSystem", "TCP/IP port", "Q148732, Q155831",
             "Information Store (IS): MAPI mailbox access"),
        _svc("sa", "MSExchangeSA", "Parameters", "TCP/IP port", "Q148732",
             "System Attendant: needed to administer Exchange across the firewall"),
        _svc("mta", "MSExchangeMTA", "Parameters", "TCP/IP port for RPC listens", "Q176466, Q161931",
             "Message Transfer Agent RPC endpoint (intrasite and site-connector traffic)"),
    ),
    "Q155831 (XADM: Setting TCP/IP Ports for Exchange and Outlook Client Connections Through a Firewall); "
    "Q148732; Q180795 (do not assign ports immediately above 1023); Q194952",
))

_EX2K = (
    _svc("is", "MSExchangeIS", "ParametersSystem", "TCP/IP Port", "KB 270836",
         "Information Store MAPI port"),
    _svc("sa-rfr", "MSExchangeSA", "Parameters", "TCP/IP Port", "KB 270836",
         "System Attendant RFR interface (DSProxy referral)"),
    _svc("sa-nspi", "MSExchangeSA", "Parameters", "TCP/IP NSPI Port", "KB 270836",
         "System Attendant NSPI proxy (DSProxy)"),
)
for _name, _version in (("exchange2000", "2000"), ("exchange2003", "2003")):
    _add(Profile(_name, "SYSTEM", f"Exchange {_version} store and DSProxy RPC ports", _EX2K,
                 "KB 270836; ExBPA port-conflict topics; KB 282446 (clusters also need 'No RFR Service')"))

_add(Profile(
    "exchange2010", "SYSTEM", "Exchange 2010 Client Access: RPC Client Access and Address Book",
    (
        _svc("rpc", "MSExchangeRPC", "ParametersSystem", "TCP/IP Port", "TechNet Wiki 864",
             "RPC Client Access service", create=True),
        _svc("ab", "MSExchangeAB", "Parameters", "RpcTcpPort", "ExBPA gg191713",
             "Address Book service (NSPI/RFR), Exchange 2010 SP1 and later; a decimal string",
             value_type=RegType.SZ, create=True),
    ),
    "TechNet Wiki 864 (Exchange 2010 CAS: configure static RPC ports); ExBPA gg191713",
))

_add(Profile(
    "ad", "SYSTEM", "Active Directory domain controller RPC ports",
    (
        _svc("ntds", "NTDS", "Parameters", "TCP/IP Port", "KB 224196",
             "All AD RPC interfaces (replication, client RPC); domain controllers only"),
        _svc("netlogon", "Netlogon", "Parameters", "DCTcpipPort", "KB 224196",
             "Netlogon RPC on domain controllers; must differ from the NTDS port"),
        _svc("frs", "NTFRS", "Parameters", "RPC TCP/IP Port Assignment", "KB 319553, KB 224196",
             "File Replication Service; use a port different from NTDS"),
    ),
    "KB 224196 (restrict AD RPC traffic to a specific port); KB 319553; KB 298369",
))

_RPC_KEY = "Microsoft\\Rpc\\Internet"
_add(Profile(
    "rpc-internet", "SOFTWARE", "The RPC dynamic port pool (SOFTWARE\\Microsoft\\Rpc\\Internet)",
    (
        Setting("ports", None, _RPC_KEY, "Ports", RegType.MULTI_SZ, PORT_LIST, True, "KB 154596",
                "Ports and ranges (a-b) the endpoint mapper may (or may not) hand out"),
        Setting("available", None, _RPC_KEY, "PortsInternetAvailable", RegType.SZ, YES_NO, True, "KB 154596",
                "Y: Ports lists the ports RPC may use; N: the ports it may not use"),
        Setting("internet", None, _RPC_KEY, "UseInternetPorts", RegType.SZ, YES_NO, True, "KB 154596",
                "Y: processes with the default policy get the 'internet' ports"),
    ),
    "KB 154596 lineage (RPC errors troubleshooting): at least 100 ports, above 5000",
))


def profile(name: str) -> Profile:
    try:
        return PROFILES[name.lower()]
    except KeyError:
        from ..errors import UsageError

        raise UsageError(f"unknown profile {name!r}; known: {', '.join(PROFILES)}") from None
