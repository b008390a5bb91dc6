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
