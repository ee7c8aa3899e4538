"""ArtifactRepository: real files, real symlinks, and an fsspec ``memory://`` root."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from nbtrack.entities import FileInfo
from nbtrack.errors import InvalidInput, NbtrackWarning, NotFoundError
from nbtrack.store import artifacts
from nbtrack.store.artifacts import ArtifactRepository, validate_artifact_path


def tree(folder: Path) -> dict[str, bytes | None]:
    """Every entry under ``folder`` as ``{relative posix path: content or None for dirs}``."""
    out: dict[str, bytes | None] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        out[rel] = None if path.is_dir() else path.read_bytes()
    return out


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "store" / "artifacts" / "1" / "runid" / "artifacts"


@pytest.fixture
def repo(root: Path) -> ArtifactRepository:
    return ArtifactRepository(str(root))


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_bytes(b"secret")
    return folder


@pytest.fixture
def src(tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    (folder / "sub" / "deeper").mkdir(parents=True)
    (folder / "empty").mkdir()
    (folder / "a.txt").write_bytes(b"A")
    (folder / "sub" / "b.bin").write_bytes(bytes(range(256)))
    (folder / "sub" / "deeper" / "c.txt").write_bytes(b"C")
    return folder


@pytest.fixture(params=["path", "file-uri", "memory"])
def any_repo(request: pytest.FixtureRequest, root: Path) -> ArtifactRepository:
    if request.param == "path":
        return ArtifactRepository(root)
    if request.param == "file-uri":
        return ArtifactRepository(root.as_uri())
    repo = ArtifactRepository(f"memory://nbtrack-tests/{uuid.uuid4().hex}/artifacts")
    request.addfinalizer(repo.delete_all)
    return repo


# -- path rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("../x", "'..'"),
        ("a/../../x", "'..'"),
        ("..", "'..'"),
        ("/etc/passwd", "relative"),
        ("C:/Windows", "relative"),
        ("s3://bucket/key", "relative"),
        ("a\\..\\..\\b", "backslash"),
        ("..\\x", "backslash"),
        ("a\x00b", "NUL"),
        ("a\nb", "control character"),
        ("a//b", "empty name"),
    ],
)
def test_validate_artifact_path_refuses(path: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason) as info:
        validate_artifact_path(path)
    assert repr(path) in str(info.value)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (None, ""),
        ("", ""),
        (".", ""),
        ("plots/", "plots"),
        ("a/./b", "a/b"),
        ("a b/c.d", "a b/c.d"),
    ],
)
def test_validate_artifact_path_normalises(path: str | None, expected: str) -> None:
    assert validate_artifact_path(path) == expected


@pytest.mark.parametrize("path", [None, "", ".", "dir/"])
def test_file_paths_must_name_a_file(path: str | None) -> None:
    with pytest.raises(InvalidInput):
        validate_artifact_path(path, allow_root=False)


@pytest.mark.parametrize("bad", ["../escape.txt", "/abs.txt", "a/\x00.txt", "x\\..\\..\\y"])
def test_refused_paths_write_nothing(
    repo: ArtifactRepository, root: Path, tmp_path: Path, src: Path, bad: str
) -> None:
    before = tree(tmp_path)
    with pytest.raises(InvalidInput):
        repo.write_bytes(bad, b"x")
    with pytest.raises(InvalidInput):
        repo.write_text(bad, "x")
    with pytest.raises(InvalidInput):
        repo.log_artifact(src / "a.txt", bad)
    with pytest.raises(InvalidInput):
        repo.log_artifacts(src, bad)
    with pytest.raises(InvalidInput):
        repo.download_artifacts(bad, tmp_path / "dl")
    with pytest.raises(InvalidInput):
        repo.list_artifacts(bad)
    assert tree(tmp_path) == before


# -- round trips --------------------------------------------------------------------------


def test_round_trip(any_repo: ArtifactRepository, src: Path, tmp_path: Path) -> None:
    any_repo.log_artifact(src / "a.txt")
    any_repo.log_artifact(src / "a.txt", "copies/")
    any_repo.log_artifacts(src, "tree")
    any_repo.write_text("notes/readme.md", "héllo")
    any_repo.write_bytes("notes/raw.bin", b"\x00\x01")

    assert any_repo.list_artifacts() == [
        FileInfo("a.txt", False, 1),
        FileInfo("copies", True, None),
        FileInfo("notes", True, None),
        FileInfo("tree", True, None),
    ]
    assert any_repo.list_artifacts("tree/sub") == [
        FileInfo("tree/sub/b.bin", False, 256),
        FileInfo("tree/sub/deeper", True, None),
    ]
    assert any_repo.list_artifacts("notes/") == [
        FileInfo("notes/raw.bin", False, 2),
        FileInfo("notes/readme.md", False, len("héllo".encode())),
    ]
    assert any_repo.read_text("notes/readme.md") == "héllo"

    dst = tmp_path / "dl"
    local = any_repo.download_artifacts("tree/sub/b.bin", dst)
    assert local == str(dst / "tree" / "sub" / "b.bin")
    assert Path(local).read_bytes() == bytes(range(256))

    folder = any_repo.download_artifacts("tree", dst)
    assert folder == str(dst / "tree")
    expected = {k: v for k, v in tree(src).items() if k != "empty"}
    assert {k: v for k, v in tree(Path(folder)).items() if k != "empty"} == expected

    everything = Path(any_repo.download_artifacts())
    assert (everything / "notes" / "readme.md").read_text(encoding="utf-8") == "héllo"
    assert (everything / "copies" / "a.txt").read_bytes() == b"A"


def test_log_artifacts_keeps_empty_folders_locally(repo: ArtifactRepository, src: Path) -> None:
    repo.log_artifacts(src)
    assert FileInfo("empty", True, None) in repo.list_artifacts()
    assert tree(Path(repo.download_artifacts())) == tree(src)


def test_overwrite_replaces_content(any_repo: ArtifactRepository) -> None:
    any_repo.write_text("x.txt", "old")
    any_repo.write_text("x.txt", "new")
    assert any_repo.read_text("x.txt") == "new"


def test_missing_paths(any_repo: ArtifactRepository, tmp_path: Path) -> None:
    assert any_repo.list_artifacts() == []
    assert any_repo.list_artifacts("nope") == []
    empty = any_repo.download_artifacts(None, tmp_path / "dl")
    assert os.listdir(empty) == []
    any_repo.write_text("file.txt", "x")
    assert any_repo.list_artifacts("file.txt") == []  # a file has no children, as in MLflow
    with pytest.raises(NotFoundError, match=re.escape("'no/such.txt'")):
        any_repo.download_artifacts("no/such.txt", tmp_path / "dl")
    with pytest.raises(NotFoundError, match=re.escape("'gone.txt'")):
        any_repo.read_bytes("gone.txt")


def test_missing_or_wrong_local_sources(repo: ArtifactRepository, tmp_path: Path) -> None:
    missing = tmp_path / "missing.csv"
    with pytest.raises(NotFoundError, match=re.escape("missing.csv")):
        repo.log_artifact(missing)
    with pytest.raises(NotFoundError, match=re.escape("missing.csv")):
        repo.log_artifacts(missing)
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(InvalidInput, match="log_artifacts"):
        repo.log_artifact(tmp_path)
    with pytest.raises(InvalidInput, match="log_artifact "):
        repo.log_artifacts(tmp_path / "f.txt")


def test_file_and_folder_clash(repo: ArtifactRepository) -> None:
    repo.write_text("d/x.txt", "x")
    with pytest.raises(InvalidInput, match="folder"):
        repo.write_text("d", "x")
    with pytest.raises(InvalidInput, match="in the way"):
        repo.write_text("d/x.txt/y.txt", "x")


def test_download_default_destination_is_a_new_temp_dir(repo: ArtifactRepository) -> None:
    repo.write_text("m/MLmodel", "flavors: {}")
    first, second = repo.download_artifacts("m"), repo.download_artifacts("m")
    assert first != second
    assert Path(first, "MLmodel").read_text() == "flavors: {}"


def test_download_into_a_file_is_refused(repo: ArtifactRepository, tmp_path: Path) -> None:
    repo.write_text("x.txt", "x")
    (tmp_path / "plain").write_text("")
    with pytest.raises(InvalidInput, match="is a file"):
        repo.download_artifacts("x.txt", tmp_path / "plain")


def test_file_uri_with_escaped_space(tmp_path: Path) -> None:
    root = tmp_path / "with space" / "artifacts"
    repo = ArtifactRepository(root.as_uri())
    assert "%20" in repo.root_uri and repo.is_local
    repo.write_text("a.txt", "x")
    assert (root / "a.txt").read_text() == "x"


def test_local_root_does_not_import_fsspec(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from nbtrack.store.artifacts import ArtifactRepository\n"
        f"r = ArtifactRepository({str(tmp_path)!r})\n"
        "r.write_text('a.txt', 'x'); r.list_artifacts(); r.download_artifacts('a.txt')\n"
        "assert 'fsspec' not in sys.modules, 'fsspec imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- atomic writes ------------------------------------------------------------------------


def test_failed_write_leaves_old_content_and_no_debris(
    repo: ArtifactRepository, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.write_text("model.pkl", "complete")

    def crash(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(artifacts.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        repo.write_text("model.pkl", "half")
    with pytest.raises(OSError, match="disk full"):
        repo.write_text("new.txt", "half")
    monkeypatch.undo()
    assert sorted(os.listdir(root)) == ["model.pkl"]
    assert repo.read_text("model.pkl") == "complete"


def test_temp_debris_is_not_listed(repo: ArtifactRepository, root: Path) -> None:
    repo.write_text("a.txt", "x")
    (root / ".nbtrack-tmp-0123456789ab").write_text("half")
    assert [i.path for i in repo.list_artifacts()] == ["a.txt"]
    assert os.listdir(repo.download_artifacts()) == ["a.txt"]


def test_written_files_follow_the_umask(repo: ArtifactRepository, root: Path) -> None:
    umask = os.umask(0)
    os.umask(umask)
    repo.write_text("a.txt", "x")
    assert (root / "a.txt").stat().st_mode & 0o777 == 0o666 & ~umask


# -- symbolic links in the run's folder ---------------------------------------------------


@pytest.fixture
def planted(repo: ArtifactRepository, root: Path, outside: Path) -> ArtifactRepository:
    """A run folder holding links that leave it, as someone with disk access could plant."""
    repo.write_text("ok.txt", "fine")
    os.symlink(outside, root / "dirlink")
    os.symlink(outside / "secret.txt", root / "filelink.txt")
    return repo


def test_writing_through_an_escaping_link_is_refused(
    planted: ArtifactRepository, outside: Path, src: Path
) -> None:
    for call in (
        lambda: planted.write_text("dirlink/x.txt", "x"),
        lambda: planted.write_text("dirlink/new/deep.txt", "x"),
        lambda: planted.write_text("filelink.txt", "overwritten"),
        lambda: planted.log_artifact(src / "a.txt", "dirlink"),
        lambda: planted.log_artifacts(src, "dirlink/tree"),
    ):
        with pytest.raises(InvalidInput, match="outside the run's artifact folder"):
            call()
    assert tree(outside) == {"secret.txt": b"secret"}


def test_reading_through_an_escaping_link_is_refused(
    planted: ArtifactRepository, tmp_path: Path
) -> None:
    for call in (
        lambda: planted.read_bytes("filelink.txt"),
        lambda: planted.read_bytes("dirlink/secret.txt"),
        lambda: planted.download_artifacts("filelink.txt", tmp_path / "dl"),
        lambda: planted.download_artifacts("dirlink", tmp_path / "dl"),
        lambda: planted.list_artifacts("dirlink"),
    ):
        with pytest.raises(InvalidInput, match="outside the run's artifact folder"):
            call()
    assert not (tmp_path / "dl" / "filelink.txt").exists()


def test_walks_skip_escaping_links(planted: ArtifactRepository, tmp_path: Path) -> None:
    assert [i.path for i in planted.list_artifacts()] == ["ok.txt"]
    with pytest.warns(NbtrackWarning, match="outside"):
        everything = planted.download_artifacts(None, tmp_path / "dl")
    assert tree(Path(everything)) == {"ok.txt": b"fine"}


def test_links_inside_the_run_folder_are_followed(repo: ArtifactRepository, root: Path) -> None:
    repo.write_text("real/model.txt", "v2")
    os.symlink(root / "real", root / "latest")
    assert repo.read_text("latest/model.txt") == "v2"
    assert FileInfo("latest", True, None) in repo.list_artifacts()
    repo.write_text("latest/extra.txt", "e")
    assert (root / "real" / "extra.txt").read_text() == "e"


def test_symlinked_root_is_unlinked_not_emptied(tmp_path: Path, outside: Path) -> None:
    link = tmp_path / "run-artifacts"
    os.symlink(outside, link)
    repo = ArtifactRepository(link)
    assert repo.list_artifacts() == [FileInfo("secret.txt", False, 6)]
    repo.delete_all()
    assert not os.path.lexists(link)
    assert tree(outside) == {"secret.txt": b"secret"}


# -- symbolic links in a log_artifacts source folder ---------------------------------------


def test_source_link_leaving_the_folder_is_refused_before_copying(
    repo: ArtifactRepository, root: Path, src: Path, outside: Path
) -> None:
    os.symlink(outside / "secret.txt", src / "sub" / "zz-leak.txt")
    with pytest.raises(InvalidInput, match=re.escape("zz-leak.txt")) as info:
        repo.log_artifacts(src)
    assert str(outside) in str(info.value)
    assert not root.exists()


def test_source_dir_link_leaving_the_folder_is_refused(
    repo: ArtifactRepository, root: Path, src: Path, outside: Path
) -> None:
    os.symlink(outside, src / "data")
    with pytest.raises(InvalidInput, match="outside"):
        repo.log_artifacts(src, "x")
    assert not root.exists()


def test_source_link_looping_to_a_parent_is_refused(
    repo: ArtifactRepository, root: Path, src: Path
) -> None:
    os.symlink(src, src / "sub" / "loop")
    with pytest.raises(InvalidInput, match="loops"):
        repo.log_artifacts(src)
    assert not root.exists()


def test_source_links_inside_the_folder_copy_their_content(
    repo: ArtifactRepository, root: Path, src: Path
) -> None:
    os.symlink(src / "a.txt", src / "alias.txt")
    os.symlink(src / "sub" / "deeper", src / "shortcut")
    repo.log_artifacts(src)
    assert (root / "alias.txt").read_bytes() == b"A"
    assert not (root / "alias.txt").is_symlink()
    assert (root / "shortcut" / "c.txt").read_bytes() == b"C"


def test_dangling_source_link_is_skipped_with_a_warning(
    repo: ArtifactRepository, root: Path, src: Path
) -> None:
    os.symlink(src / "nothing-here", src / "dangling")
    with pytest.warns(NbtrackWarning, match="dangling"):
        repo.log_artifacts(src)
    assert (root / "a.txt").exists() and not os.path.lexists(root / "dangling")


def test_log_artifact_copies_an_explicitly_named_link(
    repo: ArtifactRepository, root: Path, outside: Path
) -> None:
    repo.log_artifact(outside / "secret.txt", "named")
    assert (root / "named" / "secret.txt").read_bytes() == b"secret"


# -- fsspec roots and deletion ------------------------------------------------------------


def test_remote_keys_cannot_escape_the_download_folder(tmp_path: Path) -> None:
    repo = ArtifactRepository(f"memory://nbtrack-tests/{uuid.uuid4().hex}/artifacts")
    try:
        repo.write_text("ok.txt", "fine")
        repo._fs.pipe_file(repo._base + "/d/../../evil.txt", b"evil")
        assert [i.path for i in repo.list_artifacts()] == ["d", "ok.txt"]
        dst = tmp_path / "a" / "b"
        with pytest.warns(NbtrackWarning, match="'..'"):
            repo.download_artifacts(None, dst)
        assert tree(tmp_path) == {"a": None, "a/b": None, "a/b/d": None, "a/b/ok.txt": b"fine"}
    finally:
        repo.delete_all()


def test_delete_all(any_repo: ArtifactRepository, src: Path) -> None:
    any_repo.log_artifacts(src, "x")
    any_repo.delete_all()
    assert any_repo.list_artifacts() == []
    any_repo.delete_all()  # already gone: no error


def test_repr_and_is_local(repo: ArtifactRepository) -> None:
    assert "runid" in repr(repo) and repo.is_local
    assert not ArtifactRepository("memory://nbtrack-tests/x").is_local


def test_delete_all_removes_the_emptied_run_folder(tmp_path: Path) -> None:
    run_folder = tmp_path / "1" / "abc123"
    repo = ArtifactRepository(str(run_folder / "artifacts"))
    repo.write_text("notes.txt", "hello")
    repo.delete_all()
    assert not run_folder.exists()
    assert (tmp_path / "1").is_dir()
