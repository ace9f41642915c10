"""Applications to join: received from the page or a form export, decided once by the
secretariat, invited, and reminded about when they wait too long."""
