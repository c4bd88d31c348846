export interface LoginPageProps {
  next: string;
  email?: string;
  error?: string;
}

/** Sign in: email and password. */
export function LoginPage({ next, email, error }: LoginPageProps) {
  return (
    <section class="card narrow" aria-labelledby="login-title">
      <h1 id="login-title">Sign in to Tideway</h1>
      {error ? (
        <p class="alert alert-error" role="alert" id="login-error">
          {error}
        </p>
      ) : null}
      <form method="post" action="/login" class="form">
        <input type="hidden" name="next" value={next} />
        <div class="field">
          <label for="email">Email</label>
          <input id="email" name="email" type="email" autocomplete="username" required value={email ?? ''} autofocus />
        </div>
        <div class="field">
          <label for="password">Password</label>
          <input id="password" name="password" type="password" autocomplete="current-password" required />
        </div>
        <button type="submit" class="button button-primary">
          Sign in
        </button>
      </form>
    </section>
  );
}

/** Sign out: a button, because signing out changes state (POST with the CSRF token). */
export function LogoutPage({ email, csrfToken }: { email: string; csrfToken: string }) {
  return (
    <section class="card narrow" aria-labelledby="logout-title">
      <h1 id="logout-title">Sign out</h1>
      <p>You are signed in as {email}.</p>
      <form method="post" action="/logout">
        <input type="hidden" name="_csrf" value={csrfToken} />
        <button type="submit" class="button button-primary">
          Sign out
        </button>
      </form>
    </section>
  );
}
