"""The Sewerline web application: the Django project that hosts the domain apps."""
