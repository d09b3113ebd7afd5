// Log in through the JSON API (it sets the session cookie), then go where the user was going.
"use strict";
(function () {
  const form = document.getElementById("login");
  const error = document.getElementById("login-error");
  const home = { manager: "/dashboard", clerk: "/console", technician: "/dashboard" };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const body = { username: form.username.value.trim(), password: form.password.value };
    let response;
    try {
      response = await fetch("/api/login", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    } catch (e) {
      error.textContent = "无法连接服务器，请稍后再试";
      return;
    }
    if (!response.ok) {
      error.textContent = response.status === 401 ? "用户名或密码错误" : "登录失败（" + response.status + "）";
      return;
    }
    const who = await response.json();
    location.href = form.dataset.next || home[who.role] || "/dashboard";
  });
})();
