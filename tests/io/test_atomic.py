from pathlib import Path

import pytest

from msa_lib.io.atomic import atomic_path


def test_success_replaces_and_failure_keeps_the_old_file(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    with atomic_path(target) as tmp:
        tmp.write_text("first")
    assert target.read_text() == "first"
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise KeyboardInterrupt
    assert target.read_text() == "first"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_suffix_is_kept_for_writers_that_check_it(tmp_path):
    with atomic_path(tmp_path / "x.csd", suffix=".tmp.csd") as tmp:
        assert tmp.name.endswith(".tmp.csd")
        tmp.write_text("")


def test_written_files_follow_the_umask_not_mkstemps_0600(tmp_path):
    import os

    old = os.umask(0o027)
    try:
        with atomic_path(tmp_path / "shared.txt") as tmp:
            tmp.write_text("result")
    finally:
        os.umask(old)
    assert (tmp_path / "shared.txt").stat().st_mode & 0o777 == 0o640


def test_writable_checks_name_the_folder_and_create_nothing(tmp_path):
    from msa_lib.io.atomic import check_writable_dir, check_writable_file

    assert check_writable_file(tmp_path / "new" / "deeper" / "t.csv")  # folders made later
    assert not (tmp_path / "new").exists()
    (tmp_path / "file.txt").write_text("a file")
    with pytest.raises(NotADirectoryError, match=r"file\.txt is a file, not a folder"):
        check_writable_file(tmp_path / "file.txt" / "t.csv")
    with pytest.raises(IsADirectoryError, match="is a folder; give a file name"):
        check_writable_file(tmp_path)
    read_only = Path("/sys/kernel")  # read-only even for root, where os.access says otherwise
    if not read_only.is_dir():
        pytest.skip("no /sys (not Linux)")
    with pytest.raises(PermissionError, match=r"cannot write in /sys/kernel"):
        check_writable_dir(read_only / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]
