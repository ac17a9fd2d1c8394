def test_login_page_renders_with_strict_csp(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert b"Sign in" in response.data
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
