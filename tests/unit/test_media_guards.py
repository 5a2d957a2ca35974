"""URL and path guards: what a stranger's post may make MIST open."""

from __future__ import annotations

import os

import pytest

from mist_qgis.core.images.paths import MediaFileMissing, OfflineFolder, PathRefused, resolve_media_path
from mist_qgis.core.images.urlguard import UrlPolicy, UrlRefused, check_url


def _resolver(table):
    def resolve(host, port):
        if host not in table:
            raise OSError(f"unknown host {host}")
        return table[host]
    return resolve


PUBLIC = UrlPolicy(resolver=_resolver({
    "photos.example.org": ["93.184.216.34"],
    "intranet.example.org": ["10.1.2.3"],
    "mixed.example.org": ["93.184.216.34", "192.168.1.10"],
    "v6.example.org": ["2606:4700::6810:84e5"],
    "mapped.example.org": ["::ffff:127.0.0.1"],
}))


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "ftp://example.org/a.jpg", "data:image/png;base64,AAAA", "javascript:alert(1)",
    "gopher://example.org/", "//photos.example.org/a.jpg", "photos.example.org/a.jpg", "",
])
def test_only_http_and_https(url):
    with pytest.raises(UrlRefused):
        check_url(url, PUBLIC)


def test_public_hosts_pass():
    assert check_url("https://photos.example.org/a.jpg", PUBLIC).addresses == ("93.184.216.34",)
    assert check_url("HTTP://photos.example.org:8080/a.jpg", PUBLIC).port == 8080
    assert check_url("https://v6.example.org/a.jpg", PUBLIC).host == "v6.example.org"


@pytest.mark.parametrize("url,reason", [
    ("http://127.0.0.1/a.jpg", "loopback"),
    ("http://127.1.2.3:8000/a.jpg", "loopback"),
    ("http://[::1]/a.jpg", "loopback"),
    ("http://localhost/a.jpg", "loopback"),
    ("http://2130706433/a.jpg", "loopback"),  # 127.0.0.1 as one decimal number
    ("http://0.0.0.0/a.jpg", "unspecified"),
    ("http://0.1.2.3/a.jpg", "unspecified"),
    ("http://10.0.0.5/a.jpg", "private"),
    ("http://172.16.0.1/a.jpg", "private"),
    ("http://192.168.1.1/a.jpg", "private"),
    ("http://100.64.0.1/a.jpg", "private"),
    ("http://[fd00::1]/a.jpg", "private"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[fe80::1]/a.jpg", "link-local"),
    ("http://224.0.0.1/a.jpg", "multicast"),
    ("http://240.0.0.1/a.jpg", "reserved"),
    ("http://intranet.example.org/a.jpg", "private"),
    ("http://mixed.example.org/a.jpg", "private"),  # one bad address is enough
    ("http://mapped.example.org/a.jpg", "loopback"),  # IPv4-mapped IPv6
])
def test_non_public_addresses_refused(url, reason):
    policy = PUBLIC if "example.org" in url else UrlPolicy()
    with pytest.raises(UrlRefused, match=reason):
        check_url(url, policy)


def test_private_hosts_allowed_only_when_asked_and_never_link_local():
    allowed = UrlPolicy(allow_private_hosts=True)
    assert check_url("http://127.0.0.1:8080/a.jpg", allowed)
    assert check_url("http://10.0.0.5/a.jpg", allowed)
    with pytest.raises(UrlRefused, match="link-local"):
        check_url("http://169.254.169.254/", allowed)
    with pytest.raises(UrlRefused, match="multicast"):
        check_url("http://224.0.0.1/", allowed)


def test_single_network_exception():
    loopback_only = UrlPolicy.allowing(["127.0.0.1/32"])
    assert check_url("http://127.0.0.1:9/a.jpg", loopback_only)
    for url in ("http://127.0.0.2/", "http://10.0.0.1/", "http://169.254.1.1/"):
        with pytest.raises(UrlRefused):
            check_url(url, loopback_only)


def _v6(prefix: str, ipv4: str) -> str:
    """An IPv6 address that embeds `ipv4` the way `prefix` does."""
    import ipaddress

    value = int(ipaddress.IPv4Address(ipv4))
    if prefix == "6to4":  # 2002:VVVV:VVVV::/48
        return str(ipaddress.IPv6Address((0x2002 << 112) | (value << 80) | 1))
    if prefix == "teredo":  # 2001:0:server:flags:port:~client (public server 65.54.227.120)
        server = int(ipaddress.IPv4Address("65.54.227.120"))
        return str(ipaddress.IPv6Address((0x20010000 << 96) | (server << 64) | (0x8000 << 48)
                                         | (0xFFFF << 32) | (~value & 0xFFFFFFFF)))
    if prefix == "nat64":  # 64:ff9b::/96
        return str(ipaddress.IPv6Address((0x64FF9B << 96) | value))
    if prefix == "mapped":  # ::ffff:a.b.c.d
        return f"::ffff:{ipv4}"
    raise ValueError(prefix)


@pytest.mark.parametrize("form", ["mapped", "6to4", "teredo", "nat64"])
@pytest.mark.parametrize("ipv4,reason", [
    ("127.0.0.1", "loopback"), ("10.0.0.5", "private"), ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"),
])
def test_ipv6_forms_embedding_ipv4_are_judged_by_the_ipv4_inside(form, ipv4, reason):
    address = _v6(form, ipv4)
    policy = UrlPolicy(resolver=_resolver({"wrapped.example.org": [address]}))
    with pytest.raises(UrlRefused, match=f"{ipv4} is {reason}"):
        check_url("http://wrapped.example.org/a.jpg", policy)
    with pytest.raises(UrlRefused, match=f"{ipv4} is {reason}"):
        check_url(f"http://[{address}]/a.jpg", UrlPolicy())
    if reason == "link-local":  # the metadata address stays closed even when private hosts are open
        with pytest.raises(UrlRefused, match="169.254.169.254 is link-local"):
            check_url(f"http://[{address}]/a.jpg", UrlPolicy(allow_private_hosts=True))


@pytest.mark.parametrize("form", ["mapped", "6to4", "teredo", "nat64"])
def test_ipv6_forms_embedding_a_public_ipv4_pass(form):
    address = _v6(form, "93.184.216.34")
    assert check_url(f"http://[{address}]/a.jpg", UrlPolicy()).addresses == (address,)


def test_site_local_ipv6_is_refused_unless_private_hosts_are_allowed():
    with pytest.raises(UrlRefused, match="site-local"):
        check_url("http://[fec0::1]/a.jpg", UrlPolicy())
    with pytest.raises(UrlRefused, match="site-local"):
        check_url("http://[feff:ffff::1]/a.jpg", UrlPolicy())
    assert check_url("http://[fec0::1]/a.jpg", UrlPolicy(allow_private_hosts=True))


def test_credentials_control_characters_and_unresolvable_hosts():
    for url in ("http://user:pw@photos.example.org/a.jpg", "http://photos.example.org/a b.jpg",
                "http://photos.example.org/a\r\nHost: evil", "http://nosuch.example.org/a.jpg",
                "http://[::1/a.jpg", "http://photos.example.org:99999/a.jpg"):
        with pytest.raises(UrlRefused):
            check_url(url, PUBLIC)


# -- paths ---------------------------------------------------------------------------------


@pytest.fixture
def media_root(tmp_path):
    root = tmp_path / "collection"
    (root / "photos" / "2024").mkdir(parents=True)
    (root / "photos" / "2024" / "a.jpg").write_bytes(b"a")
    (tmp_path / "secret.txt").write_text("secret")
    (tmp_path / "outside.jpg").write_bytes(b"o")
    return root


def test_relative_paths_inside_the_root_resolve(media_root):
    assert resolve_media_path(media_root, "photos/2024/a.jpg").read_bytes() == b"a"
    assert resolve_media_path(media_root, "photos\\2024\\a.jpg").name == "a.jpg"  # Windows export
    assert resolve_media_path(media_root, "./photos//2024/a.jpg").name == "a.jpg"


@pytest.mark.parametrize("path", [
    "../secret.txt", "photos/../../secret.txt", "..\\secret.txt", "photos/2024/../../../outside.jpg",
    "/etc/passwd", "C:\\Windows\\win.ini", "c:/x.jpg", "\\\\server\\share\\a.jpg", "a.jpg\x00.png", "", "   ",
    ".", "photos",
])
def test_escaping_paths_refused(media_root, path):
    with pytest.raises(PathRefused):
        resolve_media_path(media_root, path)


def test_symlink_out_of_the_root_refused(media_root, tmp_path):
    os.symlink(tmp_path / "secret.txt", media_root / "innocent.jpg")
    os.symlink(tmp_path, media_root / "photos" / "up")
    with pytest.raises(PathRefused, match="outside"):
        resolve_media_path(media_root, "innocent.jpg")
    with pytest.raises(PathRefused, match="outside"):
        resolve_media_path(media_root, "photos/up/outside.jpg")
    os.symlink(media_root / "photos" / "2024" / "a.jpg", media_root / "inside.jpg")
    assert resolve_media_path(media_root, "inside.jpg").name == "a.jpg"  # symlinks within the root are fine


def test_missing_file_is_not_a_refusal(media_root):
    with pytest.raises(MediaFileMissing):
        resolve_media_path(media_root, "photos/none.jpg")


def test_offline_folder_by_name_and_post_id(tmp_path):
    root = tmp_path / "drive"
    (root / "day1").mkdir(parents=True)
    for name in ("IMG_0001.JPG", "day1/IMG_0002.jpg", "1234567.jpg", "999_1.jpg", "999_2.jpg", "999_10.png",
                 "notes.txt", "12345678.jpg"):
        (root / name).write_bytes(name.encode())
    folder = OfflineFolder(root)
    assert folder.by_name("img_0001.jpg").name == "IMG_0001.JPG"
    assert folder.by_name("C:\\Users\\field\\IMG_0002.jpg").name == "IMG_0002.jpg"
    assert folder.by_post_id("1234567", 0).name == "1234567.jpg"  # not 12345678.jpg
    assert [folder.by_post_id("999", i).name for i in range(3)] == ["999_1.jpg", "999_2.jpg", "999_10.png"]
    with pytest.raises(MediaFileMissing):
        folder.by_post_id("999", 3)
    with pytest.raises(MediaFileMissing):
        folder.by_name("notes.txt")  # not a photo or video
    with pytest.raises(MediaFileMissing):
        folder.by_name("../secret.jpg")
    os.symlink(tmp_path / "x.jpg", root / "dangling.jpg")
    (tmp_path / "x.jpg").write_bytes(b"x")
    fresh = OfflineFolder(root)
    with pytest.raises(PathRefused):
        fresh.by_name("dangling.jpg")


def test_offline_folder_indexes_once_under_concurrent_lookups(tmp_path):
    """Fetch workers call the folder from many threads; a racy index listed files twice and
    handed the first photo of a post to its second media row."""
    import threading

    from mist_qgis.core.images.paths import OfflineFolder

    for name in ("4242_1.jpg", "4242_2.png", "4242_3.jpg"):
        (tmp_path / name).write_bytes(b"x")
    def look(folder, barrier, picks, position: int) -> None:
        barrier.wait()
        picks[position] = folder.by_post_id("4242", position % 3).name

    for _ in range(20):
        folder, barrier, picks = OfflineFolder(tmp_path), threading.Barrier(8), {}
        threads = [threading.Thread(target=look, args=(folder, barrier, picks, i)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert {p: n for p, n in picks.items() if p < 3} == {0: "4242_1.jpg", 1: "4242_2.png", 2: "4242_3.jpg"}
