"""Web forms; Flask-WTF adds a CSRF token to each."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    email = EmailField("Email / 邮箱", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password / 密码", validators=[DataRequired(), Length(max=200)])
