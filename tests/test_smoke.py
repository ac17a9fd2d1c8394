def test_login_page_renders_with_strict_csp(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert b"Sign in" in response.data
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp


def test_postgresql_gets_a_pool_sized_from_the_environment(monkeypatch):
    from webapp.config import engine_options

    monkeypatch.setenv("GUNICORN_THREADS", "8")
    monkeypatch.setenv("DB_MAX_OVERFLOW", "3")
    options = engine_options("postgresql+psycopg://db/clearpath", {"pool_pre_ping": True})
    assert options == {"pool_pre_ping": True, "pool_size": 8, "max_overflow": 3,
                       "pool_timeout": 10.0, "pool_recycle": 1800}
    options = engine_options("sqlite:///x.db", {"pool_pre_ping": True})
    assert "pool_size" not in options and options["pool_pre_ping"] is True
